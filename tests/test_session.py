"""The embedded session's logging: warnings that repeat without telling the user anything are off."""

from __future__ import annotations

from energy_anomaly.session import QUIET_LOGGERS


def test_parquet_writer_scaling_warnings_are_silenced(spark):
    log_manager = spark.sparkContext._jvm.org.apache.logging.log4j.LogManager
    for name in QUIET_LOGGERS:
        assert log_manager.getLogger(name).getLevel().toString() == "ERROR"
    # Spark's own warnings still reach the user.
    assert log_manager.getLogger("org.apache.spark.sql.execution").getLevel().toString() == "WARN"
