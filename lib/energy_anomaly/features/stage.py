"""The features stage: ``silver/daily`` -> ``gold/features``.

Per household in pandas (``applyInPandas``, grouped by household: each household's days are
one group), then the day's context in Spark: calendar columns and London's temperature. Replaces
the table in one commit.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from energy_anomaly import catalog, tables
from energy_anomaly.calendar import is_weekend, season
from energy_anomaly.config import local_path
from energy_anomaly.errors import InputFileError
from energy_anomaly.features.core import HISTORY_COLUMNS, NEW_COLUMNS, continued_features, household_features
from energy_anomaly.periods import month_of

logger = logging.getLogger(__name__)


def read_bank_holidays(spark: SparkSession, path: str) -> DataFrame:
    """``Bank holidays,Type`` CSV (the LCL release's uk_bank_holidays.csv) -> (day)."""
    # Read without header: the header line's "Bank holidays" is not a date and drops out below.
    raw = spark.read.schema("holiday STRING, kind STRING").csv(path)
    return raw.select(F.trim("holiday").try_cast("date").alias("day")).where(F.col("day").isNotNull()).distinct()


# temperature_delta: the day against the mean of the previous 28 calendar days that have weather,
# the same month-long memory the z_ statistics have (features.core), and only with 7 of them.
TEMPERATURE_WINDOW, MIN_TEMPERATURE_DAYS = 28, 7
WEATHER_COLUMNS = ("time", "temperatureMax", "temperatureMin")
WEATHER_SCHEMA = "day DATE, temperature DOUBLE, temperature_delta DOUBLE"


def read_weather(spark: SparkSession, path: str) -> DataFrame:
    """DarkSky daily weather CSV (the LCL release's weather_daily_darksky.csv) -> (day,
    temperature, temperature_delta): the mean of the day's high and low, and how far it is from
    the mean of the days before. A row without a date or temperatures gives no day (its day has
    no temperature: the detectors then judge it without weather)."""
    local = local_path(path)
    if local is not None and not Path(local).is_file():
        raise InputFileError(path, "weather file not found (the DarkSky daily CSV of the LCL release)")
    raw = spark.read.option("header", True).csv(path)
    missing = [name for name in WEATHER_COLUMNS if name not in raw.columns]
    if missing:
        raise InputFileError(path, f"not a DarkSky daily weather file: no {', '.join(missing)} column")
    # One row a day: the file is read on the driver and its days computed in pandas.
    days = daily_temperatures(raw.select(*WEATHER_COLUMNS).toPandas(), path)
    return spark.createDataFrame(days.astype(object).where(days.notna(), None), WEATHER_SCHEMA)


def daily_temperatures(rows: pd.DataFrame, source: str) -> pd.DataFrame:
    """``WEATHER_COLUMNS`` rows (strings, as read) -> (day, temperature, temperature_delta), one
    row per day with weather; rows without a date or temperatures are counted in a warning."""
    day = pd.to_datetime(rows["time"].str.strip().str[:10], format="%Y-%m-%d", errors="coerce")
    high, low = (pd.to_numeric(rows[c], errors="coerce") for c in ("temperatureMax", "temperatureMin"))
    valid = day.notna() & high.notna() & low.notna()
    if (~valid).any():
        logger.warning("%s: %d row(s) without a date or temperatures ignored", source, int((~valid).sum()))
    series = ((high + low) / 2)[valid].groupby(day[valid]).mean().sort_index()
    if series.empty:
        return pd.DataFrame({"day": [], "temperature": [], "temperature_delta": []})
    series = series.asfreq("D")
    before = series.shift(1).rolling(TEMPERATURE_WINDOW, min_periods=MIN_TEMPERATURE_DAYS).mean()
    days = pd.DataFrame({"day": series.index.date, "temperature": series, "temperature_delta": series - before})
    return days[days["temperature"].notna()].reset_index(drop=True)


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
    new = daily_df.select(*NEW_COLUMNS, F.lit(False).alias("is_history"))
    stored = history_df.select(*HISTORY_COLUMNS, F.lit(True).alias("is_history"))
    return (
        new.unionByName(stored, allowMissingColumns=True)
        .repartition(partitions, "household_id")
        .mapInPandas(continued_features, catalog.HOUSEHOLD_FEATURES)
    )


def with_calendar(features_df: DataFrame, holidays_df: DataFrame, weather_df: DataFrame | None = None) -> DataFrame:
    """The day's context: day of week, bank holiday, season, and the temperature where
    ``weather_df`` (``read_weather``) has the day (else null)."""
    holidays = holidays_df.select("day", F.lit(True).alias("is_holiday"))
    if weather_df is None:
        weather_df = features_df.sparkSession.createDataFrame([], WEATHER_SCHEMA)
    return (
        features_df.join(F.broadcast(holidays), "day", how="left")
        .join(F.broadcast(weather_df), "day", how="left")
        .withColumn("is_holiday", F.coalesce("is_holiday", F.lit(False)))
        .withColumn("day_of_week", F.dayofweek("day"))
        .withColumn("is_weekend", is_weekend(F.col("day")))
        .withColumn("season", season(F.col("day")))
        .withColumn("month", month_of("day"))
        .select(*catalog.GOLD_FEATURES.schema.fieldNames())
    )


def run_features(spark: SparkSession, warehouse: str, bank_holidays: str, weather: str | None = None) -> int:
    """``weather``: the DarkSky daily CSV; without one, every day's temperature is null."""
    daily = tables.read_table(spark, warehouse, catalog.SILVER_DAILY)
    # Range-partitioned before the pandas step: the grouping reuses that partitioning (one
    # shuffle), and the range sampling reads silver/daily instead of running the pandas step twice.
    features = (
        daily.repartitionByRange("household_id")
        .transform(with_household_features)
        .transform(with_calendar, read_bank_holidays(spark, bank_holidays), weather and read_weather(spark, weather))
        .sortWithinPartitions("household_id", "day")
    )
    path = tables.overwrite(features, warehouse, catalog.GOLD_FEATURES)
    return tables.rows_written(spark, path)
