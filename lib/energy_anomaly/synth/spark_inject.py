"""Spark wrapper of the injector: per-household ``applyInPandas`` over readings, then, for copied
days, per-day ``applyInPandas`` (a donor is another household of the same day)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from energy_anomaly.synth.anomalies import COPIED_DAY
from energy_anomaly.synth.inject import copy_days, inject_frame


def with_injected_anomalies(
    readings_df: DataFrame, *, seed: int, rate: float, start: dt.date, end: dt.date, types: tuple[str, ...]
) -> DataFrame:
    """Readings (``household_id``, ``ts``, ``kwh``, any other columns kept) with anomalies planted,
    plus ``anomaly_type`` and ``anomaly_params`` on the rows of labelled days."""
    schema = T.StructType(
        readings_df.schema.fields
        + [T.StructField("anomaly_type", T.StringType(), True), T.StructField("anomaly_params", T.StringType(), True)]
    )

    def body(frame: pd.DataFrame) -> pd.DataFrame:
        return inject_frame(frame, seed=seed, rate=rate, start=start, end=end, types=types)

    injected = readings_df.groupBy("household_id").applyInPandas(body, schema)
    if COPIED_DAY not in types:
        return injected

    def copy_body(frame: pd.DataFrame) -> pd.DataFrame:
        return copy_days(frame.drop(columns="_day"), seed=seed, rate=rate, start=start, end=end, types=types)

    return injected.withColumn("_day", F.to_date("ts")).groupBy("_day").applyInPandas(copy_body, schema)


def select_labels(injected_df: DataFrame, seed: int) -> DataFrame:
    return (
        injected_df.where(F.col("anomaly_type").isNotNull())
        .select("household_id", F.to_date("ts").alias("day"), "anomaly_type", F.col("anomaly_params").alias("params"))
        .distinct()
        .withColumn("seed", F.lit(seed).cast("long"))
    )
