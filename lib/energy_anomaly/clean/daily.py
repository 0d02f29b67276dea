"""``silver/readings`` -> ``silver/daily``: one row per household-day with its 48 values.

``kwh[i]`` is the reading stamped ``i * 30 min`` after midnight UTC (LCL's own timestamps). Slots outside the household's first
and last reading are null; ``n_missing`` counts every slot with no value (gap or outside).
``daily_kwh`` is only given for complete days, where it means the day's consumption.
"""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from energy_anomaly.schemas import SLOTS_PER_DAY


def to_daily(grid_df: DataFrame) -> DataFrame:
    by_slot = F.map_from_entries(F.collect_list(F.struct("slot", "kwh")))
    daily = grid_df.groupBy("household_id", "day").agg(
        by_slot.alias("by_slot"),
        F.count_if(~F.col("is_imputed") & ~F.col("is_gap")).cast("int").alias("n_observed"),
        F.count_if("is_imputed").cast("int").alias("n_imputed"),
    )
    values = F.transform(F.sequence(F.lit(0), F.lit(SLOTS_PER_DAY - 1)), lambda s: F.element_at("by_slot", s))
    n_missing = F.lit(SLOTS_PER_DAY) - F.col("n_observed") - F.col("n_imputed")
    is_complete = n_missing == 0
    return (
        daily.withColumn("kwh", values)
        .withColumn("n_missing", n_missing.cast("int"))
        .withColumn("completeness", (F.col("n_observed") + F.col("n_imputed")) / F.lit(SLOTS_PER_DAY))
        .withColumn("is_complete", is_complete)
        .withColumn("daily_kwh", F.when(is_complete, F.aggregate("kwh", F.lit(0.0), lambda acc, x: acc + x)))
        .select("household_id", "day", "kwh", "n_observed", "n_imputed", "n_missing", "completeness", "is_complete", "daily_kwh")
    )
