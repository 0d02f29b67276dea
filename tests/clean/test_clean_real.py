"""The clean stage on the real Datastore file with its gaps and duplicates; re-runs change nothing."""

import datetime as dt

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from energy_anomaly.clean.stage import run_clean
from energy_anomaly.ingest.stage import run_ingest
from energy_anomaly.tables import read_table
from tests.conftest import SAMPLE_DIR

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def cleaned(spark, tmp_path_factory):
    warehouse = str(tmp_path_factory.mktemp("clean") / "warehouse")
    run_ingest(spark, warehouse, [str(SAMPLE_DIR / "datastore" / "MAC000002.csv.gz")], None, 12.0)
    return warehouse, run_clean(spark, warehouse, max_gap_slots=4)


def test_rows_are_accounted_for(cleaned):
    _, result = cleaned
    assert result.bronze_rows == 24_158 - 1  # the Null row is in quarantine
    assert result.off_grid == 0  # the only off-grid row of the real file is the Null one
    assert result.duplicates_dropped == 17  # 16 duplicated midnights + the repeated last row
    assert result.conflicting_timestamps == 0
    assert result.observed == result.bronze_rows - 17
    # 4 one-slot gaps interpolated; the real file jumps from 2012-11-08 00:00 to 2012-11-09 00:30:
    # those 48 missing slots stay null.
    assert (result.imputed, result.gap_slots) == (4, 48)
    first, last = dt.datetime(2012, 10, 12, 0, 30), dt.datetime(2014, 2, 28)
    assert result.grid_rows == (last - first) // dt.timedelta(minutes=30) + 1


def test_real_gaps_are_interpolated_or_flagged(spark, cleaned):
    warehouse, _ = cleaned
    silver = read_table(spark, warehouse, "silver/readings")
    around = silver.where(F.col("ts").between(dt.datetime(2012, 10, 12, 10, 30), dt.datetime(2012, 10, 12, 11, 30)))
    values = {r.ts.time().isoformat(): (r.kwh, r.is_imputed) for r in around.collect()}
    assert values["11:00:00"] == (pytest.approx((values["10:30:00"][0] + values["11:30:00"][0]) / 2), True)
    long_gap = silver.where(F.col("is_gap"))
    assert long_gap.agg(F.min("ts"), F.max("ts")).first() == (
        dt.datetime(2012, 11, 8, 0, 30),
        dt.datetime(2012, 11, 9, 0, 0),
    )
    assert silver.where(F.col("ts") == dt.datetime(2012, 10, 20)).first().n_source_rows == 2


def test_daily_completeness_on_real_days(spark, cleaned):
    warehouse, result = cleaned
    daily = read_table(spark, warehouse, "silver/daily")
    first_day = daily.where(F.col("day") == dt.date(2012, 10, 12)).first()
    assert first_day.kwh[0] is None and first_day.n_missing == 1  # the series starts at 00:30
    gap_day = daily.where(F.col("day") == dt.date(2012, 11, 8)).first()
    assert (gap_day.n_observed, gap_day.n_missing, gap_day.is_complete) == (1, 47, False)
    assert result.days == daily.count() == (dt.date(2014, 2, 28) - dt.date(2012, 10, 12)).days + 1


def test_rerunning_clean_changes_nothing(spark, cleaned):
    warehouse, _ = cleaned
    before = {t: read_table(spark, warehouse, t).localCheckpoint() for t in ("silver/readings", "silver/daily")}
    run_clean(spark, warehouse, max_gap_slots=4)
    for table, frame in before.items():
        assertDataFrameEqual(read_table(spark, warehouse, table), frame)


def test_silver_files_hold_whole_household_months_in_time_order(spark, scored):
    """The layout per-household reads and daily updates rely on: a month partition per month, each
    household's month in one file, its rows in time order (the grid comes out sorted; the month
    files are written side by side, not re-sorted)."""
    import pyarrow.parquet as pq

    warehouse, _, _ = scored
    seen = []
    for path in read_table(spark, warehouse, "silver/readings").inputFiles():
        month = path.split("/month=")[1].split("/")[0]
        rows = pq.read_table(path.removeprefix("file:"), columns=["household_id", "ts"]).to_pylist()
        keys = [(r["household_id"], r["ts"]) for r in rows]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        assert {ts.strftime("%Y-%m-01") for _, ts in keys} == {month}
        seen += sorted({(household, month) for household, _ in keys})
    assert len(seen) == len(set(seen))
    assert len({household for household, _ in seen}) == 4
