"""The regular half-hourly grid of each household, from its first to its last reading.

Each reading generates itself and the missing slots up to the household's next reading, so the
grid needs one window (``lead``) and no join, and its rows come out in (household_id, ts) order.
Gaps of up to ``max_gap_slots`` missing half-hours are interpolated linearly between the two
readings around them (``is_imputed``); longer gaps stay null (``is_gap``).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from energy_anomaly.clean.dedupe import SECONDS_PER_SLOT, household_window
from energy_anomaly.periods import month_of


def with_next_reading(readings_df: DataFrame) -> DataFrame:
    window = household_window()
    return readings_df.withColumn("next_ts", F.lead("ts").over(window)).withColumn(
        "next_kwh", F.lead("kwh").over(window)
    )


def with_filled_slots(readings_df: DataFrame, max_gap_slots: int) -> DataFrame:
    """Explodes each reading into itself (k = 0) plus the empty slots k = 1 .. steps - 1 before the
    next reading.

    The slots are numbers (``explode`` of ``sequence(0, steps - 1)``), and each column is computed
    from ``k`` in generated code, rather than from an array of structs built for every reading and
    inlined: nearly every reading is its own one slot."""
    steps = F.coalesce(
        ((F.unix_timestamp("next_ts") - F.unix_timestamp("ts")) / SECONDS_PER_SLOT).cast("int"), F.lit(1)
    )
    k, n = F.col("k"), F.col("steps")
    is_reading = k == 0
    is_short_gap = (n - 1) <= max_gap_slots
    interpolated = F.col("kwh") + (F.col("next_kwh") - F.col("kwh")) * k / n
    return (
        readings_df.withColumn("steps", steps)
        .select("*", F.explode(F.sequence(F.lit(0), n - 1)).alias("k"))
        .select(
            "household_id",
            (F.col("ts") + F.make_dt_interval(secs=k * SECONDS_PER_SLOT)).alias("ts"),
            F.when(is_reading, F.col("kwh")).when(is_short_gap, interpolated).alias("kwh"),
            (~is_reading & is_short_gap).alias("is_imputed"),
            (~is_reading & ~is_short_gap).alias("is_gap"),
            F.when(is_reading, F.col("n_source_rows")).otherwise(F.lit(0)).alias("n_source_rows"),
            (is_reading & F.col("has_conflict")).alias("has_conflict"),
        )
    )


def with_day_and_slot(grid_df: DataFrame) -> DataFrame:
    seconds_into_day = F.unix_timestamp("ts") - F.unix_timestamp(F.to_date("ts").cast("timestamp"))
    return grid_df.withColumn("day", F.to_date("ts")).withColumn(
        "slot", (seconds_into_day / SECONDS_PER_SLOT).cast("int")
    )


def to_grid(deduped_df: DataFrame, max_gap_slots: int) -> DataFrame:
    """Deduplicated on-grid readings -> the silver/readings grid."""
    return (
        deduped_df.transform(with_next_reading)
        .transform(with_filled_slots, max_gap_slots)
        .transform(with_day_and_slot)
        .select(
            "household_id",
            "ts",
            "day",
            "slot",
            "kwh",
            "is_imputed",
            "is_gap",
            "n_source_rows",
            "has_conflict",
            month_of("day").alias("month"),
        )
    )
