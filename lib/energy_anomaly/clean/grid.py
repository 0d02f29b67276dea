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


def with_next_reading(readings_df: DataFrame) -> DataFrame:
    window = household_window()
    return readings_df.withColumn("next_ts", F.lead("ts").over(window)).withColumn(
        "next_kwh", F.lead("kwh").over(window)
    )


def with_filled_slots(readings_df: DataFrame, max_gap_slots: int) -> DataFrame:
    """Explodes each reading into itself (k = 0) plus the empty slots before the next reading."""
    steps = F.coalesce(
        ((F.unix_timestamp("next_ts") - F.unix_timestamp("ts")) / SECONDS_PER_SLOT).cast("int"), F.lit(1)
    )
    is_short_gap = (steps - 1) <= max_gap_slots

    def slot(k):
        is_reading = k == 0
        interpolated = F.col("kwh") + (F.col("next_kwh") - F.col("kwh")) * k / steps
        return F.struct(
            (F.col("ts") + F.make_dt_interval(secs=k * SECONDS_PER_SLOT)).alias("ts"),
            F.when(is_reading, F.col("kwh")).when(is_short_gap, interpolated).alias("kwh"),
            (~is_reading & is_short_gap).alias("is_imputed"),
            (~is_reading & ~is_short_gap).alias("is_gap"),
            F.when(is_reading, F.col("n_source_rows")).otherwise(0).alias("n_source_rows"),
            (is_reading & F.col("has_conflict")).alias("has_conflict"),
        )

    # Nearly every reading is followed by the next half-hour's: it is its own one slot, built by
    # code-generated expressions; only readings before a gap go through the interpreted lambda.
    alone = F.array(
        F.struct(
            "ts", "kwh", F.lit(False).alias("is_imputed"), F.lit(False).alias("is_gap"), "n_source_rows", "has_conflict"
        )
    )
    slots = F.when(steps == 1, alone).otherwise(F.transform(F.sequence(F.lit(0), steps - 1), slot))
    return readings_df.select("household_id", F.inline(slots))


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
        .select("household_id", "ts", "day", "slot", "kwh", "is_imputed", "is_gap", "n_source_rows", "has_conflict")
    )

