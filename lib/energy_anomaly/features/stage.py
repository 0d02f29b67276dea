"""The features stage: ``silver/daily`` -> ``gold/features``.

Per household in pandas (``applyInPandas``, grouped by household: each household's days are
one group), then calendar columns in Spark. Replaces the table in one commit.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from energy_anomaly import catalog, tables
from energy_anomaly.calendar import is_weekend, season
from energy_anomaly.features.core import HISTORY_COLUMNS, continued_features, household_features
from energy_anomaly.periods import month_of

logger = logging.getLogger(__name__)


def read_bank_holidays(spark: SparkSession, path: str) -> DataFrame:
    """``Bank holidays,Type`` CSV (the LCL release's uk_bank_holidays.csv) -> (day)."""
    # Read without header: the header line's "Bank holidays" is not a date and drops out below.
    raw = spark.read.schema("holiday STRING, kind STRING").csv(path)
    return raw.select(F.trim("holiday").try_cast("date").alias("day")).where(F.col("day").isNotNull()).distinct()


def with_household_features(daily_df: DataFrame) -> DataFrame:
    return (
        daily_df.select("household_id", "day", "kwh", "is_complete")
        .groupBy("household_id")
        .applyInPandas(household_features, catalog.HOUSEHOLD_FEATURES)
    )


def with_continued_features(daily_df: DataFrame, history_df: DataFrame, partitions: int) -> DataFrame:
    """The features of ``daily_df``'s days, each household's from its stored ``gold/features``
    rows of the days before them (``history_df``: ``STORED_HISTORY_DAYS`` of them), in
    ``partitions`` pandas tasks. Households are computed together (``CHUNK_ROWS`` new rows a
    grid), not one pandas call each.

    The count is the caller's: left to adaptive execution, a day's 5,550 households became 3
    partitions, i.e. two rounds of Python tasks on 2 cores."""
    new = daily_df.select("household_id", "day", "is_complete", "kwh", F.lit(False).alias("is_history"))
    stored = history_df.select(*HISTORY_COLUMNS, F.lit(True).alias("is_history"))
    return (
        new.unionByName(stored, allowMissingColumns=True)
        .repartition(partitions, "household_id")
        .mapInPandas(continued_features, catalog.HOUSEHOLD_FEATURES)
    )


def with_calendar(features_df: DataFrame, holidays_df: DataFrame) -> DataFrame:
    holidays = holidays_df.select("day", F.lit(True).alias("is_holiday"))
    return (
        features_df.join(F.broadcast(holidays), "day", how="left")
        .withColumn("is_holiday", F.coalesce("is_holiday", F.lit(False)))
        .withColumn("day_of_week", F.dayofweek("day"))
        .withColumn("is_weekend", is_weekend(F.col("day")))
        .withColumn("season", season(F.col("day")))
        .withColumn("month", month_of("day"))
        .select(*catalog.GOLD_FEATURES.schema.fieldNames())
    )


def run_features(spark: SparkSession, warehouse: str, bank_holidays: str) -> int:
    daily = tables.read_table(spark, warehouse, catalog.SILVER_DAILY)
    # Range-partitioned before the pandas step: the grouping reuses that partitioning (one
    # shuffle), and the range sampling reads silver/daily instead of running the pandas step twice.
    features = (
        daily.repartitionByRange("household_id")
        .transform(with_household_features)
        .transform(with_calendar, read_bank_holidays(spark, bank_holidays))
        .sortWithinPartitions("household_id", "day")
    )
    path = tables.overwrite(features, warehouse, catalog.GOLD_FEATURES)
    return tables.rows_written(spark, path)
