"""The profile library: complete real household-days, keyed for the generator.

Real readings (any LCL layout, or a readings table) go through the clean stage's transforms;
only complete days with no imputed value are kept, and only households with days in every month
and both day types, so every (template, month, weekend) key has real days to draw from.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from energy_anomaly.calendar import is_weekend
from energy_anomaly.clean.daily import to_daily
from energy_anomaly.clean.dedupe import filter_on_grid, with_duplicates_resolved
from energy_anomaly.clean.grid import to_grid
from energy_anomaly.errors import EnergyAnomalyError

MONTHS = 12
DAY_TYPES = 2


def complete_days(readings_df: DataFrame) -> DataFrame:
    """Readings (household_id, ts, kwh) -> complete, fully observed household-days."""
    daily = (
        readings_df.transform(filter_on_grid)
        .transform(with_duplicates_resolved)
        .transform(to_grid, 0)
        .transform(to_daily)
    )
    return daily.where(F.col("is_complete") & (F.col("n_imputed") == 0)).select(
        "household_id", "day", "kwh", "daily_kwh"
    )


def profile_library(readings_df: DataFrame) -> DataFrame:
    """Reads the templates' ids (an action on a small aggregate), then returns
    (template_id, month, is_weekend, days: array<array<double>>) for every template household."""
    days = complete_days(readings_df).select(
        "household_id", F.month("day").alias("month"), is_weekend(F.col("day")).alias("is_weekend"), "day", "kwh"
    )
    keys = days.groupBy("household_id").agg(F.count_distinct("month", "is_weekend").alias("keys"))
    # A few hundred ids at most: numbered on the driver rather than with a global window.
    ids = sorted(r.household_id for r in keys.where(F.col("keys") == MONTHS * DAY_TYPES).collect())
    if not ids:
        raise EnergyAnomalyError("no real household has complete days in every month: cannot build profiles")
    templates = readings_df.sparkSession.createDataFrame(list(enumerate(ids)), "template_id INT, household_id STRING")
    return (
        days.join(templates, "household_id", how="inner")
        .groupBy("template_id", "month", "is_weekend")
        .agg(F.array_sort(F.collect_list(F.struct("day", "kwh"))).alias("by_day"))
        .select("template_id", "month", "is_weekend", F.transform("by_day", lambda d: d["kwh"]).alias("days"))
    )
