"""The ``inject`` command: CSV in -> CSV out, or a Delta readings table in -> Delta out.

CSV input is any LCL layout (parsed by the ingest rules; lines ingest would quarantine are not
carried over and are counted); CSV output is the Kaggle layout ``LCLid,tstp,energy(kWh/hh)``.
Delta input is a table with ``household_id``, ``ts``, ``kwh`` (e.g. ``bronze/readings``); the
output has the same columns. Labels go to ``--labels`` in the same format as the output.
Outputs are replaced, never appended, so a re-run with the same seed gives the same files.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from energy_anomaly import catalog
from energy_anomaly.errors import InputFileError
from energy_anomaly.ingest.parse import is_rejected, select_readings
from energy_anomaly.ingest.sources import discover
from energy_anomaly.ingest.stage import parse_sources
from energy_anomaly.synth.spark_inject import select_labels, with_injected_anomalies
from energy_anomaly.tables import check_schema, table_exists

logger = logging.getLogger(__name__)

KAGGLE_HEADER = ("LCLid", "tstp", "energy(kWh/hh)")


@dataclass(frozen=True)
class InjectResult:
    readings: int
    labelled_days: dict[str, int]
    not_carried: int  # CSV lines ingest would quarantine


def read_input(spark: SparkSession, path: str, max_kwh: float) -> tuple[DataFrame, bool, int]:
    """(readings, is_delta, lines not carried)."""
    if table_exists(spark, path):
        readings = spark.read.format("delta").load(path)
        missing = {"household_id", "ts", "kwh"} - set(readings.columns)
        if missing:
            raise InputFileError(path, f"Delta table lacks columns {sorted(missing)}")
        return readings, True, 0
    parsed = parse_sources(spark, discover(spark, [path]), max_kwh)
    rejected = parsed.where(is_rejected()).count()
    return select_readings(parsed).drop("source_file"), False, rejected


def write_csv(readings: DataFrame, path: str) -> None:
    kaggle = readings.select(
        F.col("household_id").alias(KAGGLE_HEADER[0]),
        F.date_format("ts", "yyyy-MM-dd HH:mm:ss").alias(KAGGLE_HEADER[1]),
        F.col("kwh").cast("string").alias(KAGGLE_HEADER[2]),
    ).orderBy(KAGGLE_HEADER[0], KAGGLE_HEADER[1])
    kaggle.write.mode("overwrite").option("header", True).csv(path)


def run_inject(
    spark: SparkSession,
    *,
    input_path: str,
    output_path: str,
    labels_path: str,
    seed: int,
    rate: float,
    start: dt.date,
    end: dt.date,
    types: tuple[str, ...],
    max_kwh: float,
) -> InjectResult:
    readings, is_delta, not_carried = read_input(spark, input_path, max_kwh)
    columns = readings.columns
    injected = with_injected_anomalies(readings, seed=seed, rate=rate, start=start, end=end, types=types).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    try:
        labels = check_schema(select_labels(injected, seed), catalog.LABELS, "labels")
        if is_delta:
            injected.select(*columns).write.format("delta").mode("overwrite").option("overwriteSchema", True).save(
                output_path
            )
            labels.write.format("delta").mode("overwrite").option("overwriteSchema", True).save(labels_path)
        else:
            write_csv(injected.select(*columns), output_path)
            labels.orderBy("household_id", "day").write.mode("overwrite").option("header", True).csv(labels_path)
        counts = {
            r["anomaly_type"]: r["n"]
            for r in labels.groupBy("anomaly_type").agg(F.count(F.lit(1)).alias("n")).collect()
        }
        n_readings = injected.count()
    finally:
        injected.unpersist()
    return InjectResult(readings=n_readings, labelled_days=counts, not_carried=not_carried)
