"""LCL-shaped readings at any scale, Spark-native and deterministic by seed.

Each synthetic household gets, from hashes of (seed, household): a template (a real household of
the profile library), a level factor (lognormal, mean 1: household-to-household differences), a
join day and a leave day (most stay to the end, as in LCL), and tariff/ACORN from the real
household information (cycled, so the proportions are the real ones). Each of its days draws a
real day of its template from the same month and day type (weekday/weekend), scaled by the level,
a day factor and per-slot noise. No driver-side loop over households or days.

Raw quirks, at the rates of the real Datastore file (see ``Quirks``): missing readings, missing
whole days, duplicated rows, ``Null`` readings (CSV only: ingest quarantines them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from energy_anomaly.calendar import is_weekend
from energy_anomaly.synth.random import gaussian, lognormal_unit_mean, uniform

LCL_START, LCL_END = dt.date(2011, 11, 23), dt.date(2014, 2, 28)
LCL_HOUSEHOLDS = 5567


@dataclass(frozen=True)
class Shape:
    households: int = LCL_HOUSEHOLDS
    start: dt.date = LCL_START
    end: dt.date = LCL_END
    join_window_days: int = 420  # joins spread over the first ~14 months, front-loaded
    leave_share: float = 0.12  # households that leave before the end
    level_sigma: float = 0.15
    day_sigma: float = 0.10
    slot_sigma: float = 0.12


@dataclass(frozen=True)
class Quirks:
    missing_reading: float = 0.0004  # one half-hour missing
    missing_day: float = 0.002  # a whole day missing (gaps)
    duplicate: float = 0.0007  # real file: 17 of 24,158 rows
    null_reading: float = 0.00005  # real file: 1 of 24,158 rows


def household_plan(spark: SparkSession, info: DataFrame, n_info: int, shape: Shape, seed: int) -> DataFrame:
    """One row per synthetic household: id, template, level, join/leave days, tariff, ACORN.

    ``info`` is the real household information numbered 1..n_info (``info_row``); household i
    takes row (i mod n_info) + 1, so tariff and ACORN proportions are the real ones."""
    span = (shape.end - shape.start).days
    hh = F.col("id")
    join = F.least(F.floor(F.pow(uniform(seed, "join", hh), F.lit(1.5)) * shape.join_window_days), F.lit(span)).cast(
        "int"
    )
    stays = F.floor((span - join) * (0.3 + 0.6 * uniform(seed, "stay", hh))).cast("int")
    leave = F.when(uniform(seed, "leaves", hh) < shape.leave_share, join + stays).otherwise(F.lit(span))
    plan = spark.range(shape.households).select(
        F.format_string("MAC%06d", hh + 1).alias("household_id"),
        F.date_add(F.lit(shape.start), join).alias("first_day"),
        F.date_add(F.lit(shape.start), leave).alias("last_day"),
        lognormal_unit_mean(seed, shape.level_sigma, "level", hh).alias("level"),
        uniform(seed, "template", hh).alias("template_u"),
        (F.pmod(hh, F.lit(n_info)) + 1).alias("info_row"),
    )
    return plan.join(F.broadcast(info), "info_row", how="inner").drop("info_row")


def with_templates(plan: DataFrame, n_templates: int) -> DataFrame:
    return plan.withColumn("template_id", F.floor(F.col("template_u") * n_templates).cast("int")).drop("template_u")


HOUSEHOLDS_PER_PARTITION = 50  # ~1.5M rows per task and output file at the full shape


def household_days(plan: DataFrame, seed: int, quirks: Quirks, n_partitions: int) -> DataFrame:
    """Spreads households over partitions first: each becomes ~30k rows once exploded."""
    day = F.explode(F.sequence("first_day", "last_day")).alias("day")
    days = plan.repartition(n_partitions, "household_id").select("*", day)
    is_missing_day = uniform(seed, "missing_day", F.col("household_id"), F.col("day")) < quirks.missing_day
    return (
        days.where(~is_missing_day)
        .withColumn("month", F.month("day"))
        .withColumn("is_weekend", is_weekend(F.col("day")))
    )


def with_profiles(days: DataFrame, library: DataFrame, shape: Shape, seed: int, max_kwh: float) -> DataFrame:
    """Picks a real day of the template (same month and day type) and scales it. A scaled reading
    stays within ``max_kwh``, what the supply's fuse lets through in half an hour: above it the
    ingest would refuse it (and bronze's CHECK constraint a generated bronze)."""
    keys = ["template_id", "month", "is_weekend"]
    joined = days.join(F.broadcast(library), keys, how="inner")
    key = [F.col("household_id"), F.col("day")]
    pick = F.floor(uniform(seed, "pick", *key) * F.size("days")).cast("int")
    day_factor = lognormal_unit_mean(seed, shape.day_sigma, "day", *key)

    def slot_value(x: Column, i: Column) -> Column:
        noise = F.exp(shape.slot_sigma * gaussian(seed, "slot", *key, i) - shape.slot_sigma**2 / 2)
        return F.least(F.round(x * F.col("level") * day_factor * noise, 3), F.lit(float(max_kwh)))

    return joined.withColumn("kwh", F.transform(F.get(F.col("days"), pick), slot_value)).drop("days")


def to_readings(profiled: DataFrame, seed: int, quirks: Quirks) -> DataFrame:
    """Household-days -> half-hourly rows with missing readings, duplicates and Null flags."""
    rows = profiled.select(
        "household_id", "tariff", "acorn", "acorn_group", "day", F.posexplode("kwh").alias("slot", "kwh")
    ).withColumn("ts", F.col("day").cast("timestamp") + F.make_dt_interval(mins=F.col("slot") * 30))
    key = [F.col("household_id"), F.col("ts")]
    kept = rows.where(uniform(seed, "missing", *key) >= quirks.missing_reading)
    copies = F.when(uniform(seed, "dup", *key) < quirks.duplicate, F.array(F.lit(0), F.lit(1))).otherwise(
        F.array(F.lit(0))
    )
    return (
        kept.select("*", F.explode(copies).alias("copy"))
        .withColumn("is_null", uniform(seed, "null", *key) < quirks.null_reading)
        .select("household_id", "tariff", "acorn", "acorn_group", "ts", "kwh", "is_null")
    )


def generate_readings(
    plan: DataFrame, library: DataFrame, n_templates: int, shape: Shape, quirks: Quirks, seed: int, max_kwh: float
) -> DataFrame:
    plan = plan.transform(with_templates, n_templates)
    n_partitions = max(2, -(-shape.households // HOUSEHOLDS_PER_PARTITION))
    return (
        household_days(plan, seed, quirks, n_partitions)
        .transform(with_profiles, library, shape, seed, max_kwh)
        .transform(to_readings, seed, quirks)
    )
