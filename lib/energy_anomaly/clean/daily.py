"""``silver/readings`` -> ``silver/daily``: one row per household-day with its 48 values.

``kwh[i]`` is the reading stamped ``i * 30 min`` after midnight UTC (LCL's own timestamps).
Slots outside the household's first
and last reading are null; ``n_missing`` counts every slot with no value (gap or outside).
``daily_kwh`` is only given for complete days, where it means the day's consumption.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from energy_anomaly.catalog import SLOTS_PER_DAY
from energy_anomaly.periods import month_of


def slot_value(slot: int):
    """The day's value at ``slot``: each (household, day, slot) occurs once in the grid, so the
    maximum over the day's rows is that one value (null for a gap or outside the series)."""
    return F.max(F.when(F.col("slot") == slot, F.col("kwh"))).alias(f"kwh_{slot}")


def to_daily(grid_df: DataFrame) -> DataFrame:
    """48 fixed-width aggregates rather than ``collect_list`` + a slot map: Spark keeps them in
    its code-generated hash aggregation instead of falling back to sorting objects."""
    daily = grid_df.groupBy("household_id", "day").agg(
        *[slot_value(slot) for slot in range(SLOTS_PER_DAY)],
        F.count_if(~F.col("is_imputed") & ~F.col("is_gap")).cast("int").alias("n_observed"),
        F.count_if("is_imputed").cast("int").alias("n_imputed"),
    )
    values = F.array(*[F.col(f"kwh_{slot}") for slot in range(SLOTS_PER_DAY)])
    n_missing = F.lit(SLOTS_PER_DAY) - F.col("n_observed") - F.col("n_imputed")
    is_complete = n_missing == 0
    return (
        daily.withColumn("kwh", values)
        .withColumn("n_missing", n_missing.cast("int"))
        .withColumn("completeness", (F.col("n_observed") + F.col("n_imputed")) / F.lit(SLOTS_PER_DAY))
        .withColumn("is_complete", is_complete)
        .withColumn("daily_kwh", F.when(is_complete, F.aggregate("kwh", F.lit(0.0), lambda acc, x: acc + x)))
        .select(
            "household_id",
            "day",
            "kwh",
            "n_observed",
            "n_imputed",
            "n_missing",
            "completeness",
            "is_complete",
            "daily_kwh",
            month_of("day").alias("month"),
        )
    )
