"""The training sample, stratified by ACORN group × tariff × season.

Complete household-days of the training period; in each stratum the first ``per_stratum`` days
in hash order of (seed, household, day), so the sample is reproducible and spread over
households. Households without information fall in the ``Unknown`` group and tariff.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from energy_anomaly.ingest.households import UNKNOWN_GROUP
from energy_anomaly.periods import filter_period

STRATUM = ("acorn_group", "tariff", "season")


def with_strata(features_df: DataFrame, households_df: DataFrame) -> DataFrame:
    households = households_df.select("household_id", "acorn_group", "tariff")
    return (
        features_df.join(households, "household_id", how="left")
        .withColumn("acorn_group", F.coalesce("acorn_group", F.lit(UNKNOWN_GROUP)))
        .withColumn("tariff", F.coalesce("tariff", F.lit(UNKNOWN_GROUP)))
    )


def stratified_sample(
    features_df: DataFrame, households_df: DataFrame, *, start: dt.date, end: dt.date, per_stratum: int, seed: int
) -> DataFrame:
    """(household_id, day, acorn_group, tariff, season) of the sampled training days."""
    order = F.xxhash64(F.lit(seed), F.col("household_id"), F.col("day"))
    in_stratum = Window.partitionBy(*STRATUM).orderBy(order, "household_id", "day")
    return (
        features_df.transform(filter_period, start, end)
        .where("is_complete")
        .transform(with_strata, households_df)
        .withColumn("rank", F.row_number().over(in_stratum))
        .where(F.col("rank") <= per_stratum)
        .select("household_id", "day", *STRATUM)
    )
