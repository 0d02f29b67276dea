"""Ingest of real LCL files: every data row accounted for, every quirk of the raw release handled."""

import dataclasses
import datetime as dt
import gzip
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from energy_anomaly.errors import EnergyAnomalyError
from energy_anomaly.ingest.parse import select_quarantine, select_readings
from energy_anomaly.ingest.sources import discover
from energy_anomaly.ingest.stage import check_file_naming, parse_sources, run_ingest
from energy_anomaly.tables import read_table
from tests.conftest import SAMPLE_DIR

pytestmark = pytest.mark.spark

DATASTORE = SAMPLE_DIR / "datastore" / "MAC000002.csv.gz"
KAGGLE_FILES = [SAMPLE_DIR / "halfhourly_2013" / f"MAC00000{i}.csv.gz" for i in (2, 3)]
HOUSEHOLDS = SAMPLE_DIR / "informations_households.csv.gz"


def data_lines(*paths) -> int:
    """Independent count: lines of each file, less its header."""
    total = 0
    for path in paths:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rt") as handle:
            total += sum(1 for _ in handle) - 1
    return total


@pytest.fixture(scope="module")
def ingested(spark, tmp_path_factory):
    warehouse = str(tmp_path_factory.mktemp("ingest") / "warehouse")
    result = run_ingest(spark, warehouse, [str(DATASTORE), *map(str, KAGGLE_FILES)], [str(HOUSEHOLDS)], 12.0)
    return warehouse, result


def test_every_data_row_lands_in_exactly_one_bronze_table(spark, ingested):
    warehouse, result = ingested
    readings = read_table(spark, warehouse, "bronze/readings").count()
    quarantined = (
        read_table(spark, warehouse, "bronze/quarantine")
        .where(~F.col("source_file").endswith("households.csv.gz"))
        .count()
    )
    assert readings + quarantined == data_lines(DATASTORE, *KAGGLE_FILES)
    assert (result.readings, result.quarantined) == (readings, quarantined)


def test_null_reading_at_off_grid_time_is_quarantined_with_its_raw_text(spark, ingested):
    warehouse, _ = ingested
    quarantine = read_table(spark, warehouse, "bronze/quarantine").drop("source_file")
    assertDataFrameEqual(
        quarantine,
        spark.createDataFrame(
            [("MAC000002,2012-12-19 12:37:27.0000000,Null", "missing_kwh", "MAC000002")],
            "raw_line STRING, reason STRING, household_id STRING",
        ),
    )


def test_suffixed_and_padded_values_parse_as_utc(spark, ingested):
    warehouse, _ = ingested
    bronze = read_table(spark, warehouse, "bronze/readings")
    rows = bronze.where(
        (F.col("household_id") == "MAC000002")
        & F.col("ts").isin(
            dt.datetime(2012, 10, 12, 0, 30), dt.datetime(2013, 1, 1, 0, 0), dt.datetime(2013, 7, 1, 12, 0)
        )
    ).select("ts", "kwh", F.regexp_extract("source_file", r"(datastore|halfhourly_2013)", 1).alias("layout"))
    expected = spark.createDataFrame(
        [
            (dt.datetime(2012, 10, 12, 0, 30), 0.0, "datastore"),
            (dt.datetime(2013, 1, 1, 0, 0), 0.219, "halfhourly_2013"),
            (dt.datetime(2013, 1, 1, 0, 0), 0.219, "datastore"),
            # GMT all year: a July timestamp is not shifted by British Summer Time.
            (dt.datetime(2013, 7, 1, 12, 0), 0.133, "halfhourly_2013"),
            (dt.datetime(2013, 7, 1, 12, 0), 0.133, "datastore"),
        ],
        "ts TIMESTAMP, kwh DOUBLE, layout STRING",
    )
    assertDataFrameEqual(rows, expected)


def test_duplicated_midnight_and_repeated_last_rows_stay_in_bronze(spark, ingested):
    warehouse, _ = ingested
    bronze = read_table(spark, warehouse, "bronze/readings").where(F.col("source_file").contains("datastore"))
    dupes = bronze.groupBy("ts").count().where("count > 1")
    assert dupes.count() == 17
    assert dupes.where(F.hour("ts") != 0).count() == 0
    assert dupes.where(F.col("ts") == dt.datetime(2014, 2, 28)).count() == 1


def test_households_are_one_row_each_with_acorn_groups(spark, ingested):
    warehouse, result = ingested
    households = read_table(spark, warehouse, "silver/households")
    assert result.households == households.count() == households.select("household_id").distinct().count() == 5566
    groups = {r.acorn_group for r in households.select("acorn_group").distinct().collect()}
    assert groups == {"Affluent", "Comfortable", "Adversity", "Unknown"}
    assertDataFrameEqual(
        households.where(F.col("household_id") == "MAC000002"),
        spark.createDataFrame(
            [("MAC000002", "Std", "ACORN-A", "Affluent", "block_0")],
            "household_id STRING, tariff STRING, acorn STRING, acorn_group STRING, block STRING",
        ),
    )


def test_bronze_parquet_keeps_no_min_max_on_source_file_and_leaves_the_session_as_it_was(spark, ingested):
    warehouse, _ = ingested
    bronze_files = sorted(Path(warehouse, "bronze", "readings").glob("*.parquet"))
    assert bronze_files
    for path in bronze_files:
        row_group = pq.ParquetFile(path).metadata.row_group(0)
        has_min_max = {
            row_group.column(i).path_in_schema: row_group.column(i).statistics is not None
            and row_group.column(i).statistics.has_min_max
            for i in range(row_group.num_columns)
        }
        assert has_min_max == {"household_id": True, "ts": True, "kwh": True, "source_file": False}
    assert spark.conf.get("parquet.column.statistics.enabled#source_file", None) is None


def test_reingesting_the_same_files_changes_nothing(spark, ingested, tmp_path):
    warehouse, _ = ingested
    names = ["bronze/readings", "bronze/quarantine", "silver/households"]
    before = {name: read_table(spark, warehouse, name).localCheckpoint() for name in names}
    # The same files again, one of them reached through a glob this time.
    run_ingest(
        spark, warehouse, [str(SAMPLE_DIR / "datastore" / "*.csv.gz"), *map(str, KAGGLE_FILES)], [str(HOUSEHOLDS)], 12.0
    )
    for name in names:
        assertDataFrameEqual(read_table(spark, warehouse, name), before[name])


def test_a_file_ingested_alone_replaces_only_its_own_rows(spark, tmp_path):
    warehouse = str(tmp_path / "w")
    copy = tmp_path / "copy" / "MAC000003.csv.gz"
    copy.parent.mkdir()
    shutil.copy(KAGGLE_FILES[1], copy)
    run_ingest(spark, warehouse, [str(p) for p in KAGGLE_FILES], None, 12.0)
    run_ingest(spark, warehouse, [str(KAGGLE_FILES[0])], None, 12.0)  # replaces MAC000002's rows only
    run_ingest(spark, warehouse, [str(copy)], None, 12.0)  # another file: added beside the others
    per_file = {
        r.source_file.removeprefix("file:"): r["count"]
        for r in read_table(spark, warehouse, "bronze/readings").groupBy("source_file").count().collect()
    }
    assert per_file == {
        str(KAGGLE_FILES[0]): data_lines(KAGGLE_FILES[0]),
        str(KAGGLE_FILES[1]): data_lines(KAGGLE_FILES[1]),
        str(copy): data_lines(KAGGLE_FILES[1]),
    }


def test_a_file_whose_path_needs_url_encoding_is_ingested_and_replaced(spark, tmp_path):
    """Spark names a file by its URI (``a%20b.csv``), not as the path was given (``a b.csv``)."""
    warehouse = str(tmp_path / "w")
    odd = tmp_path / "meter files" / "MAC000002 100%.csv.gz"
    odd.parent.mkdir()
    shutil.copy(KAGGLE_FILES[0], odd)
    for _ in range(2):
        result = run_ingest(spark, warehouse, [str(odd.parent)], None, 12.0)
    assert result.readings + result.quarantined == data_lines(odd)
    per_file = read_table(spark, warehouse, "bronze/readings").groupBy("source_file").count().collect()
    assert [(r.source_file, r["count"]) for r in per_file] == [
        (odd.as_uri().replace("file:///", "file:/"), result.readings)
    ]


def test_a_file_spark_names_otherwise_than_its_predicate_is_refused_before_writing(spark):
    (source,) = discover(spark, [str(KAGGLE_FILES[0])])
    check_file_naming(spark, [source])
    with pytest.raises(EnergyAnomalyError, match="Spark reports this file as"):
        check_file_naming(spark, [dataclasses.replace(source, uri=source.uri.replace("file:/", "file:///"))])


def test_each_line_is_split_once_under_the_filters_that_select_readings_and_rejects(spark):
    # Without the observation as a barrier the optimizer pushes the filter on reason below the
    # parse: split (and every cast) would then run once per reference (18 and 33 times).
    parsed = parse_sources(spark, discover(spark, [str(KAGGLE_FILES[0])]), 12.0)
    for selected in (select_readings(parsed), select_quarantine(parsed)):
        assert selected._jdf.queryExecution().executedPlan().toString().count("split(") == 1


@pytest.mark.shared_data
@pytest.mark.slow
def test_the_whole_shared_slice_is_accounted_for(spark, shared_lcl, tmp_path):
    files = sorted((shared_lcl / "halfhourly_2013").glob("*.csv")) + [shared_lcl / "datastore" / "MAC000002.csv"]
    result = run_ingest(spark, str(tmp_path / "w"), [str(shared_lcl / "halfhourly_2013"), str(files[-1])], None, 12.0)
    assert result.files == 101
    assert result.readings + result.quarantined == data_lines(*files) == 1_674_718 + 24_158
    assert result.quarantine_reasons == {"missing_kwh": 1}


BAD_LINES = """LCLid,tstp,energy(kWh/hh)
MAC000001,2013-01-01 00:00:00.0000000, 0.1 
MAC000001,2013-01-01 00:30:00.0000000,Null
MAC000001,not a time,0.2

MAC000001,2013-01-01 01:00:00.0000000,-0.5
,2013-01-01 01:30:00.0000000,0.3
MAC000001,2013-01-01 02:00:00.0000000,99
MAC000001,2013-01-01 02:30:00.0000000,0.1,extra
"""


def test_rejects_are_quarantined_alike_from_the_readings_pass_and_from_a_second_pass(spark, tmp_path):
    path = tmp_path / "bad_rows.csv"
    path.write_text(BAD_LINES)
    one_pass = run_ingest(spark, str(tmp_path / "one"), [str(path)], None, 12.0)
    # More rejects than the readings pass may keep: the file is parsed again for the quarantine.
    two_passes = run_ingest(spark, str(tmp_path / "two"), [str(path)], None, 12.0, max_rejects_in_pass=2)
    reasons = [
        "missing_kwh",
        "bad_timestamp",
        "empty_line",
        "negative_kwh",
        "missing_household_id",
        "kwh_above_max",
        "wrong_field_count",
    ]
    assert one_pass.quarantine_reasons == two_passes.quarantine_reasons == dict.fromkeys(reasons, 1)
    assert one_pass.readings == two_passes.readings == 1
    quarantine = read_table(spark, str(tmp_path / "one"), "bronze/quarantine")
    assertDataFrameEqual(quarantine, read_table(spark, str(tmp_path / "two"), "bronze/quarantine"))
    assert quarantine.where(F.col("reason") == "missing_household_id").first().household_id is None


def test_a_file_reingested_without_rejects_leaves_none_of_its_earlier_rejects(spark, tmp_path):
    warehouse, path = str(tmp_path / "w"), tmp_path / "fixed_later.csv"
    clean = tmp_path / "clean.csv"
    clean.write_text("".join(BAD_LINES.splitlines(keepends=True)[:2]))
    run_ingest(spark, warehouse, [str(clean)], None, 12.0)
    # No rejects: the quarantine table is created, empty, without a write.
    assert read_table(spark, warehouse, "bronze/quarantine").count() == 0
    path.write_text(BAD_LINES)
    run_ingest(spark, warehouse, [str(path), str(clean)], None, 12.0)
    assert read_table(spark, warehouse, "bronze/quarantine").count() == 7
    versions = DeltaTable.forPath(spark, f"{warehouse}/bronze/quarantine").history().count()
    path.write_text(clean.read_text())  # the file is corrected at its source and ingested again
    result = run_ingest(spark, warehouse, [str(path)], None, 12.0)
    assert (result.readings, result.quarantined) == (1, 0)
    assert read_table(spark, warehouse, "bronze/quarantine").count() == 0
    assert read_table(spark, warehouse, "bronze/readings").count() == 2
    # A clean file with no rejects on record: nothing to delete, no commit.
    run_ingest(spark, warehouse, [str(clean)], None, 12.0)
    assert DeltaTable.forPath(spark, f"{warehouse}/bronze/quarantine").history().count() == versions + 1


def test_a_small_drop_is_read_in_splits_that_fill_every_core(spark, tmp_path):
    """Three 45 kB files under a 48 kB split limit: Spark alone makes 3 splits (two rounds on two
    cores, one core idle in the second); within the block, a multiple of the cores, none larger."""
    from energy_anomaly.session import MAX_PARTITION_BYTES, cores, split_bytes
    from energy_anomaly.tables import session_conf

    paths = []
    for i in range(3):
        path = tmp_path / f"part{i}.csv"
        path.write_text("".join(f"MAC{i:06d},2013-01-01 00:{n % 60:02d}:00.0000000,0.{n:04d}\n" for n in range(1_000)))
        paths.append(str(path))
    total = sum(Path(p).stat().st_size for p in paths)
    with session_conf(spark, MAX_PARTITION_BYTES, str(48 * 1024)):
        assert spark.read.text(paths).rdd.getNumPartitions() == 3
        with session_conf(spark, MAX_PARTITION_BYTES, str(split_bytes(spark, total))):
            splits = spark.read.text(paths).rdd.getNumPartitions()
            largest = int(spark.conf.get(MAX_PARTITION_BYTES))
        assert splits % cores(spark) == 0 and largest <= 48 * 1024
        assert spark.conf.get(MAX_PARTITION_BYTES) == str(48 * 1024)
        assert spark.read.text(paths).count() == 3_000
