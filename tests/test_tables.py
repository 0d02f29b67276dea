"""Table writes: whole-table overwrite of a derived table whose columns changed between versions, and
the row counts Delta records for them, and replace_where into a new table."""

import datetime as dt

import pytest
from delta.tables import DeltaTable
from pyspark.errors import AnalysisException
from pyspark.sql import functions as F
from pyspark.sql import types as T

from energy_anomaly import tables
from energy_anomaly.catalog import Table
from energy_anomaly.errors import EnergyAnomalyError

pytestmark = pytest.mark.spark

OLD = T.StructType([T.StructField("household_id", T.StringType(), False), T.StructField("a", T.DoubleType(), True)])
NEW = T.StructType(
    [
        T.StructField("household_id", T.StringType(), False),
        T.StructField("a", T.DoubleType(), True),
        T.StructField("b", T.DoubleType(), True),
    ]
)


def test_overwrite_rebuilds_a_table_an_older_version_wrote_and_keeps_not_null(spark, warehouse):
    tables.overwrite(spark.createDataFrame([("MAC1", 1.0)], OLD), warehouse, Table("gold/t", OLD, "test"))
    path = tables.overwrite(spark.createDataFrame([("MAC1", 1.0, 2.0)], NEW), warehouse, Table("gold/t", NEW, "test"))
    table = spark.read.format("delta").load(path)
    assert tables.same_columns(table.schema, NEW) and [tuple(r) for r in table.collect()] == [("MAC1", 1.0, 2.0)]
    assert [f.nullable for f in table.schema] == [f.nullable for f in NEW]
    with pytest.raises(Exception, match="(?i)null"):
        spark.createDataFrame([(None, 1.0, 1.0)], "household_id string, a double, b double").write.format("delta").mode(
            "append"
        ).save(path)


def test_overwrite_with_the_same_columns_is_one_commit(spark, warehouse):
    frame = spark.createDataFrame([("MAC1", 1.0, 2.0)], NEW)
    path = tables.overwrite(frame, warehouse, Table("gold/t", NEW, "test"))
    before = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").count()
    tables.overwrite(frame, warehouse, Table("gold/t", NEW, "test"))
    assert spark.sql(f"DESCRIBE HISTORY delta.`{path}`").count() == before + 1


def test_rows_written_refuses_a_commit_delta_recorded_no_row_count_for(spark, warehouse):
    frame = spark.createDataFrame([("MAC1", 1.0)], OLD)
    path = tables.overwrite(frame, warehouse, Table("gold/t", OLD, "test"))
    assert tables.rows_written(spark, path) == 1
    with tables.session_conf(spark, tables.HISTORY_METRICS, "false"):
        tables.overwrite(frame, warehouse, Table("gold/t", OLD, "test"))
    with pytest.raises(EnergyAnomalyError, match=tables.HISTORY_METRICS):
        tables.rows_written(spark, path)


def test_replace_where_replaces_even_into_a_new_table_and_checks_rows_unless_told_they_match(spark, warehouse):
    def write(rows, by_construction):
        frame = spark.createDataFrame(rows, OLD)
        return tables.replace_where(
            frame,
            warehouse,
            Table("bronze/t", OLD, "test"),
            F.col("household_id") == "MAC1",
            rows_match_by_construction=by_construction,
        )

    path = write([("MAC1", 1.0), ("MAC1", 2.0)], True)
    assert (tables.rows_written(spark, path), last_mode(spark, path)) == (2, "Overwrite")
    write([("MAC1", 3.0)], True)
    assert [r.a for r in spark.read.format("delta").load(path).collect()] == [3.0]
    # Rows that must be checked against the condition are, even into a new table.
    with pytest.raises(AnalysisException, match="DELTA_REPLACE_WHERE_MISMATCH"):
        tables.replace_where(
            spark.createDataFrame([("MAC2", 1.0)], OLD),
            warehouse,
            Table("bronze/u", OLD, "test"),
            F.col("household_id") == "MAC1",
        )


def last_mode(spark, path) -> str:
    return DeltaTable.forPath(spark, path).history(1).first()["operationParameters"]["mode"]


def test_replace_where_takes_a_hostile_value_as_a_value(spark, warehouse):
    """A value with quotes, backslashes and SQL in it replaces only its own rows (it once deleted
    every other run's metrics through a spliced predicate)."""
    hostile = "x\\' OR 1=1 --"
    path = tables.overwrite(
        spark.createDataFrame([("a", 1.0), ("b", 2.0)], OLD), warehouse, Table("gold/m", OLD, "test")
    )
    for value in (hostile, "a' OR 'a'='a", "b\\"):
        tables.replace_where(
            spark.createDataFrame([(value, 9.0)], OLD),
            warehouse,
            Table("gold/m", OLD, "test"),
            F.col("household_id") == F.lit(value),
        )
    rows = sorted((r.household_id, r.a) for r in spark.read.format("delta").load(path).collect())
    assert rows == sorted([("a", 1.0), ("b", 2.0), (hostile, 9.0), ("a' OR 'a'='a", 9.0), ("b\\", 9.0)])


def test_a_write_of_no_rows_counts_as_zero(spark, warehouse):
    path = tables.overwrite(spark.createDataFrame([("a", 1.0)], OLD), warehouse, Table("gold/e", OLD, "test"))
    tables.replace_where(
        spark.createDataFrame([], OLD), warehouse, Table("gold/e", OLD, "test"), F.col("household_id") == "a"
    )
    assert tables.rows_written(spark, path) == 0
    assert spark.read.format("delta").load(path).count() == 0


def test_a_write_that_made_no_commit_is_not_read_as_the_previous_ones_count(spark, warehouse):
    path = tables.overwrite(
        spark.createDataFrame([("a", 1.0), ("b", 1.0)], OLD), warehouse, Table("gold/n", OLD, "test")
    )
    before = tables.table_version(spark, path)
    written = tables.replace_counted(
        spark.createDataFrame([], OLD), warehouse, Table("gold/n", OLD, "test"), F.col("household_id") == "zzz"
    )
    assert tables.table_version(spark, path) == before  # no commit: the overwrite's is the latest
    assert written.rows == 0


def test_a_counted_write_finds_its_own_commit_whatever_came_after_it(spark, warehouse):
    """replace_counted tags its commit: its rows and version come from that commit even when
    another writer committed after it, and a write that committed nothing counts 0 rows."""
    table = Table("gold/c", OLD, "test")
    first = tables.replace_counted(
        spark.createDataFrame([("a", 1.0), ("a", 2.0), ("b", 1.0)], OLD), warehouse, table, F.col("household_id") != ""
    )
    assert (first.version, first.rows) == (tables.table_version(spark, first.path), 3)
    mine = tables.replace_counted(
        spark.createDataFrame([("a", 5.0)], OLD), warehouse, table, F.col("household_id") == "a"
    )
    tables.replace_where(spark.createDataFrame([("b", 7.0)], OLD), warehouse, table, F.col("household_id") == "b")
    assert tables.table_version(spark, mine.path) == mine.version + 1
    assert tables.rows_written(spark, mine.path) == 1  # the later writer's commit
    assert mine.rows == 1 and mine.version == first.version + 1
    nothing = tables.replace_counted(spark.createDataFrame([], OLD), warehouse, table, F.col("household_id") == "zzz")
    assert (nothing.version, nothing.rows) == (None, 0)


def test_bronze_from_before_the_change_feed_gets_it_on_its_first_update(spark, tmp_path):
    """A warehouse written by a version without updates: its bronze is switched to Delta's Change
    Data Feed, after which an ingest's changes can be read by version."""
    from energy_anomaly import catalog
    from energy_anomaly.tables import has_change_data_feed, table_path, table_version
    from energy_anomaly.update.stage import ensure_change_feed

    warehouse = str(tmp_path / "warehouse")
    path = table_path(warehouse, catalog.BRONZE_READINGS)
    rows = [("MAC000001", dt.datetime(2013, 1, 1), 0.5, "file:/a.csv")]
    spark.createDataFrame(rows, catalog.BRONZE_READINGS.schema).write.format("delta").save(path)
    assert not has_change_data_feed(spark, path)
    ensure_change_feed(spark, path)
    assert has_change_data_feed(spark, path)
    version = table_version(spark, path)
    spark.createDataFrame(rows, catalog.BRONZE_READINGS.schema).write.format("delta").mode("append").save(path)
    changes = (
        spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", version + 1).load(path)
    )
    assert changes.where("_change_type = 'insert'").count() == 1


def test_a_long_value_list_is_the_same_in_condition_and_stays_values(spark):
    """periods.is_in sends thousands of households to the JVM in one call: the same rows as isin,
    with quotes and SQL in values kept as values, and the short or unjoinable lists through isin."""
    from energy_anomaly.periods import is_in

    ids = [f"MAC{i:06d}" for i in range(120)] + ["it's", "x') OR ('1'='1", "a\\b"]
    values = [*ids[::3], "it's", "x') OR ('1'='1", "MAC999999", "", "1", "it"]
    rows = spark.createDataFrame([(v,) for v in values], "household_id STRING")
    expected = sorted(r[0] for r in rows.where(F.col("household_id").isin(ids)).collect())
    assert sorted(r[0] for r in rows.where(is_in("household_id", ids)).collect()) == expected
    assert "it's" in expected and "x') OR ('1'='1" in expected and "MAC999999" not in expected
    for fallback in (ids[:3], [*ids, ""], [*ids, "a\x1fb"]):
        got = sorted(r[0] for r in rows.where(is_in("household_id", fallback)).collect())
        assert got == sorted(r[0] for r in rows.where(F.col("household_id").isin(fallback)).collect())


def test_a_new_table_gets_comments_and_its_check_constraints_which_refuse_a_bad_write(spark, warehouse):
    from energy_anomaly import catalog

    daily = catalog.SILVER_DAILY
    row = {
        "household_id": "MAC000001",
        "day": dt.date(2013, 1, 1),
        "kwh": [0.1] * 48,
        "n_observed": 48,
        "n_imputed": 0,
        "n_missing": 0,
        "completeness": 1.0,
        "is_complete": True,
        "daily_kwh": 4.8,
        "month": dt.date(2013, 1, 1),
    }
    path = tables.replace_where(spark.createDataFrame([row], daily.schema), warehouse, daily, F.lit(True))
    detail = DeltaTable.forPath(spark, path).detail().first()
    assert detail["description"] == daily.description
    assert {f"delta.constraints.{name}" for name, _ in daily.checks} <= set(detail["properties"])
    comments = {f.name: f.metadata.get("comment") for f in spark.read.format("delta").load(path).schema}
    assert comments["completeness"] == catalog.COLUMN_COMMENTS["completeness"]
    bad = dict(row, completeness=1.5)
    with pytest.raises(Exception, match="completeness_is_a_share"):
        tables.replace_where(spark.createDataFrame([bad], daily.schema), warehouse, daily, F.lit(True))
    assert spark.read.format("delta").load(path).count() == 1


def test_the_ingest_bound_is_a_check_constraint_that_follows_the_config(spark, warehouse):
    from energy_anomaly import catalog

    row = ("MAC000001", dt.datetime(2013, 1, 1), 13.0, "file:/a.csv")
    bounded = catalog.bronze_readings(12.0)
    path = tables.replace_where(
        spark.createDataFrame([row[:2] + (1.0,) + row[3:]], bounded.schema), warehouse, bounded, F.lit(True)
    )
    with pytest.raises(Exception, match="kwh_within_ingest_bound"):
        tables.replace_where(spark.createDataFrame([row], bounded.schema), warehouse, bounded, F.lit(True))
    raised = catalog.bronze_readings(20.0)
    tables.ensure_checks(spark, path, raised)
    properties = DeltaTable.forPath(spark, path).detail().first()["properties"]
    assert properties["delta.constraints.kwh_within_ingest_bound"] == "kwh <= 20.0"
    tables.replace_where(spark.createDataFrame([row], raised.schema), warehouse, raised, F.lit(True))
    # A bound below a reading already in the table is refused, and the table keeps the one it had.
    with pytest.raises(Exception, match="kwh_within_ingest_bound"):
        tables.ensure_checks(spark, path, catalog.bronze_readings(12.0))
    properties = DeltaTable.forPath(spark, path).detail().first()["properties"]
    assert properties["delta.constraints.kwh_within_ingest_bound"] == "kwh <= 20.0"


def test_a_table_written_before_a_column_was_declared_gets_it(spark, warehouse):
    from energy_anomaly import catalog

    anomalies = catalog.GOLD_ANOMALIES
    older = Table(anomalies.name, T.StructType(anomalies.schema.fields[:-1]), anomalies.description)
    path = tables.table_path(warehouse, anomalies)
    tables.ensure_table(spark, path, older)
    assert "reason" not in spark.read.format("delta").load(path).columns
    tables.ensure_table(spark, path, anomalies)
    schema = spark.read.format("delta").load(path).schema
    assert schema.fieldNames() == anomalies.schema.fieldNames()
    assert schema["reason"].metadata["comment"] == anomalies.comment("reason")
    tables.ensure_table(spark, path, anomalies)  # nothing left to add: no commit
    assert tables.last_commit(spark, path)[1] == "ADD COLUMNS"


def test_features_an_older_version_wrote_without_a_feature_are_refused_by_train_score_and_update(spark, warehouse):
    """The forest reads shift_gain_28, which gold/features written before it lacks: train, score
    and update each refuse in one line that says which stage rebuilds it, and the update before
    ingesting anything."""
    from energy_anomaly import catalog
    from energy_anomaly.errors import StaleTableError
    from energy_anomaly.scoring.stage import run_score
    from energy_anomaly.training.stage import run_train
    from energy_anomaly.update.stage import run_update

    features = catalog.GOLD_FEATURES
    older = T.StructType([f for f in features.schema.fields if f.name != "shift_gain_28"])
    tables.ensure_table(spark, tables.table_path(warehouse, features), Table(features.name, older, "older"))
    day = dt.date(2013, 1, 1)
    attempts = [
        lambda: run_train(
            spark, warehouse, start=day, end=day, per_stratum=1, seed=1, threshold_quantile=0.99, epochs=1
        ),
        lambda: run_score(spark, warehouse, "unused", start=day, end=day),
        lambda: run_update(
            spark,
            warehouse,
            ["/nowhere/2014-03-01.csv"],
            "unused",
            max_kwh_per_halfhour=20.0,
            plausible_days=(day, day),
            max_gap_slots=4,
            bank_holidays="unused",
        ),
    ]
    for attempt in attempts:
        with pytest.raises(StaleTableError, match=r"without shift_gain_28: run `energy-anomaly features`"):
            attempt()
    assert not tables.table_exists(spark, tables.table_path(warehouse, catalog.BRONZE_READINGS))


def test_commits_to_a_local_table_are_one_process_at_a_time(tmp_path):
    """Nothing arbitrates Delta's commits on file: paths between processes: a second process waits
    for the first's commit block; a block inside a held one (the same process) does not wait for
    itself."""
    import subprocess
    import sys
    import time

    table = tmp_path / "bronze" / "readings"
    marks = tmp_path / "marks"
    holder = (
        "import sys, time; from energy_anomaly import tables\n"
        "with tables.commit_lock(sys.argv[1]):\n"
        "    open(sys.argv[2], 'a').write('held\\n'); time.sleep(2)\n"
        "    open(sys.argv[2], 'a').write('released\\n')\n"
    )
    first = subprocess.Popen([sys.executable, "-c", holder, str(table), str(marks)])
    while not marks.exists():
        assert first.poll() is None, "the holding process ended before taking the lock"
        time.sleep(0.02)
    with tables.commit_lock(str(table)):
        assert marks.read_text().splitlines() == ["held", "released"]  # waited for the other process
        with tables.commit_lock(f"file:{table}"):  # the same table as a URI: already held here
            pass
    assert first.wait(timeout=30) == 0
    with tables.commit_lock("s3a://bucket/warehouse/bronze/readings"):  # object stores: Delta arbitrates
        pass
