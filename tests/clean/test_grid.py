"""Duplicates, off-grid readings, the half-hourly grid and household-days, on tiny inline data."""

import datetime as dt

import pytest
from pyspark.testing import assertDataFrameEqual

from energy_anomaly.clean.daily import to_daily
from energy_anomaly.clean.dedupe import filter_on_grid, with_duplicates_resolved
from energy_anomaly.clean.grid import to_grid

pytestmark = pytest.mark.spark

BRONZE_DDL = "household_id STRING, ts TIMESTAMP, kwh DOUBLE, source_file STRING"
GRID_DDL = (
    "household_id STRING, ts TIMESTAMP, day DATE, slot INT, kwh DOUBLE, is_imputed BOOLEAN, is_gap BOOLEAN, "
    "n_source_rows INT, has_conflict BOOLEAN"
)


def t(hh, mm, day=1, ss=0):
    return dt.datetime(2013, 1, day, hh, mm, ss)


def clean(bronze_df, max_gap_slots=2):
    return (
        bronze_df.transform(filter_on_grid)
        .transform(with_duplicates_resolved)
        .transform(to_grid, max_gap_slots)
        .drop("month")
    )


def test_duplicates_off_grid_and_gaps(spark):
    bronze = spark.createDataFrame(
        [
            ("A", t(0, 0), 1.0, "f1"),
            ("A", t(0, 0), 1.0, "f2"),  # exact duplicate from another file
            ("A", t(0, 30), 2.0, "f1"),
            ("A", t(0, 30), 5.0, "f1"),  # conflicting value: the max is kept
            ("A", t(0, 37, ss=27), 9.0, "f1"),  # off the grid: left out
            ("A", t(2, 0), 0.5, "f1"),  # 2 empty slots before it: interpolated
            ("A", t(4, 0), 0.0, "f1"),  # 3 empty slots before it: longer than max_gap_slots
            ("B", t(23, 30), 0.2, "f1"),  # a household with one reading
        ],
        BRONZE_DDL,
    )
    expected = spark.createDataFrame(
        [
            ("A", t(0, 0), dt.date(2013, 1, 1), 0, 1.0, False, False, 2, False),
            ("A", t(0, 30), dt.date(2013, 1, 1), 1, 5.0, False, False, 2, True),
            ("A", t(1, 0), dt.date(2013, 1, 1), 2, 5.0 - 4.5 / 3, True, False, 0, False),
            ("A", t(1, 30), dt.date(2013, 1, 1), 3, 5.0 - 9.0 / 3, True, False, 0, False),
            ("A", t(2, 0), dt.date(2013, 1, 1), 4, 0.5, False, False, 1, False),
            ("A", t(2, 30), dt.date(2013, 1, 1), 5, None, False, True, 0, False),
            ("A", t(3, 0), dt.date(2013, 1, 1), 6, None, False, True, 0, False),
            ("A", t(3, 30), dt.date(2013, 1, 1), 7, None, False, True, 0, False),
            ("A", t(4, 0), dt.date(2013, 1, 1), 8, 0.0, False, False, 1, False),
            ("B", t(23, 30), dt.date(2013, 1, 1), 47, 0.2, False, False, 1, False),
        ],
        GRID_DDL,
    )
    assertDataFrameEqual(clean(bronze), expected, rtol=1e-9)


def test_grid_crosses_midnight_into_the_next_day(spark):
    bronze = spark.createDataFrame([("A", t(23, 30), 1.0, "f"), ("A", t(0, 30, day=2), 3.0, "f")], BRONZE_DDL)
    grid = clean(bronze).select("ts", "day", "slot", "kwh", "is_imputed")
    expected = spark.createDataFrame(
        [
            (t(23, 30), dt.date(2013, 1, 1), 47, 1.0, False),
            (t(0, 0, day=2), dt.date(2013, 1, 2), 0, 2.0, True),
            (t(0, 30, day=2), dt.date(2013, 1, 2), 1, 3.0, False),
        ],
        "ts TIMESTAMP, day DATE, slot INT, kwh DOUBLE, is_imputed BOOLEAN",
    )
    assertDataFrameEqual(grid, expected)


def test_daily_rows_hold_48_values_and_completeness(spark):
    full_day = [("A", dt.datetime(2013, 1, 2) + dt.timedelta(minutes=30 * i), 0.5, "f") for i in range(48)]
    partial = [("A", t(23, 0), 1.0, "f"), ("A", t(23, 30), 1.0, "f")]
    grid = clean(spark.createDataFrame(partial + full_day[:10] + full_day[16:], BRONZE_DDL), max_gap_slots=4)
    daily = to_daily(grid).orderBy("day").collect()

    first, second = daily
    assert (first.day, first.n_observed, first.n_imputed, first.n_missing, first.is_complete) == (
        dt.date(2013, 1, 1),
        2,
        0,
        46,
        False,
    )
    assert first.kwh[:46] == [None] * 46 and first.kwh[46:] == [1.0, 1.0]
    assert first.daily_kwh is None
    # 6 missing slots on the 2nd: longer than the 4-slot limit, so they stay a gap.
    assert (second.n_observed, second.n_imputed, second.n_missing, second.is_complete) == (42, 0, 6, False)
    assert second.kwh[10:16] == [None] * 6
    assert second.completeness == pytest.approx(42 / 48)


def test_complete_day_total(spark):
    rows = [("A", dt.datetime(2013, 1, 2) + dt.timedelta(minutes=30 * i), 0.25, "f") for i in range(48) if i != 20]
    daily = to_daily(clean(spark.createDataFrame(rows, BRONZE_DDL))).first()
    assert (daily.n_observed, daily.n_imputed, daily.is_complete) == (47, 1, True)
    assert daily.daily_kwh == pytest.approx(12.0)


def test_readings_resolved_before_keep_their_counts_among_raw_rows(spark):
    """An update's neighbouring silver readings go through the deduplication with the raw rows:
    each keeps the raw rows it stood for and its conflict, and raw rows count as before."""
    rows = spark.createDataFrame(
        [
            ("A", t(0, 0), 1.0, 3, True),  # resolved before: 3 raw rows, two values
            ("A", t(0, 30), 2.0, 1, False),
            ("A", t(0, 30), 2.0, 1, False),
            ("A", t(1, 0), 2.0, 1, False),
            ("A", t(1, 0), 4.0, 1, False),
            ("A", t(1, 30), 0.5, 2, False),  # resolved before, no conflict
        ],
        "household_id STRING, ts TIMESTAMP, kwh DOUBLE, n_source_rows INT, has_conflict BOOLEAN",
    )
    expected = spark.createDataFrame(
        [
            ("A", t(0, 0), 1.0, 3, True),
            ("A", t(0, 30), 2.0, 2, False),
            ("A", t(1, 0), 4.0, 2, True),
            ("A", t(1, 30), 0.5, 2, False),
        ],
        "household_id STRING, ts TIMESTAMP, kwh DOUBLE, n_source_rows INT, has_conflict BOOLEAN",
    )
    assertDataFrameEqual(rows.transform(with_duplicates_resolved), expected)
