"""Off-grid timestamps and duplicate readings.

Rules (documented in the README):
- LCL values are the energy of the half-hour ending at an exact ``:00``/``:30`` timestamp. A reading
  at any other time (the real ``2012-12-19 12:37:27``) has no interval: it is left out of the grid
  and counted as ``off_grid``.
- Exact duplicates (same household, timestamp and kWh) collapse to one row.
- Same household and timestamp with different kWh: the largest value is kept (deterministic,
  independent of file and row order; a partial re-send of a half-hour under-reports, it never
  over-reports). ``has_conflict`` marks the row.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window, WindowSpec
from pyspark.sql import functions as F

SECONDS_PER_SLOT = 1800


def household_window() -> WindowSpec:
    """The one series window: a household's readings in time order."""
    return Window.partitionBy("household_id").orderBy("ts")


def is_on_grid(ts: Column) -> Column:
    return F.unix_timestamp(ts) % SECONDS_PER_SLOT == 0


def filter_on_grid(readings_df: DataFrame) -> DataFrame:
    return readings_df.where(is_on_grid(F.col("ts")))


def with_duplicates_resolved(readings_df: DataFrame) -> DataFrame:
    """One row per (household_id, ts) with how many raw rows it stands for.

    Computed over the household's time-ordered window (the one ``to_grid`` uses next), not with a
    ``groupBy``: the rows with the same timestamp are neighbours in that order, so a range frame of
    zero width gives their max, min and count, and the first of them is kept. Spark sorts each
    household once for both steps, where a ``groupBy`` on (household, ts) builds a hash table of
    every reading before the window sorts them.
    A conflict is ``max != min`` (bronze kWh is never null).

    Rows that were resolved before may come with them (``n_source_rows`` and ``has_conflict``
    columns: an update's neighbouring silver readings, sorted in with the new raw rows); a row
    without them stands for one raw row."""
    by_time = household_window()
    same_ts = by_time.rangeBetween(0, 0)
    highest = F.max("kwh").over(same_ts)
    conflict = highest != F.min("kwh").over(same_ts)
    if "n_source_rows" in readings_df.columns:
        sources = F.sum("n_source_rows").over(same_ts)
        conflict = conflict | F.max("has_conflict").over(same_ts)
    else:
        sources = F.count(F.lit(1)).over(same_ts)
    return (
        readings_df.select(
            "household_id",
            "ts",
            highest.alias("kwh"),
            sources.cast("int").alias("n_source_rows"),
            conflict.alias("has_conflict"),
            F.lag("ts").over(by_time).alias("previous_ts"),
        )
        .where(F.col("previous_ts").isNull() | (F.col("previous_ts") != F.col("ts")))
        .drop("previous_ts")
    )
