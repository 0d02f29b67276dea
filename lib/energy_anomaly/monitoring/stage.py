"""gold/monitoring: every scoring run (score or update) against the model's training distribution.

Spark counts the run's scores per model, training-decile bin, ACORN group and tariff (a few
hundred rows), and the period's household-days per group and how many were complete enough to
score; the PSI, flagged rates and ``drift`` flags are computed from those counts on the driver
(``monitoring.core``). A run is identified by the gold/anomaly_scores version it wrote, so a run
written again replaces its rows.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from energy_anomaly import catalog, tables
from energy_anomaly.models.bundle import TrainingDistributions
from energy_anomaly.monitoring.core import bin_edges, monitoring_rows


def bin_below(value: Column, quantiles: np.ndarray) -> Column:
    """A value's training-decile bin: the number of edges below it (``core.bin_of``)."""
    return sum(((value > F.lit(float(edge))).cast("int") for edge in bin_edges(quantiles)), F.lit(0))


def score_bin(distributions: dict[str, np.ndarray]) -> Column:
    """Each score's training-decile bin of its own model."""
    column = None
    for model, quantiles in sorted(distributions.items()):
        below = bin_below(F.col("score"), quantiles)
        condition = F.col("model") == F.lit(model)
        column = F.when(condition, below) if column is None else column.when(condition, below)
    return F.lit(0) if column is None else column.otherwise(F.lit(0))


def training_baselines(
    spark: SparkSession, warehouse: str, model_version: str, training_period: tuple[str, str]
) -> DataFrame:
    """Per household with complete days in the model's training period: the median and
    interquartile range of its log daily kWh there (``base``, ``spread``). Computed from
    gold/features by ``train`` (or the first scoring run of a model trained before) and kept in
    gold/monitoring_baselines, so a daily update reads a row per household, not months of days."""
    kept = tables.read_table_or_empty(spark, warehouse, catalog.GOLD_BASELINES).where(
        F.col("model_version") == F.lit(model_version)
    )
    if kept.limit(1).count():
        return kept
    first, last = (dt.date.fromisoformat(d) for d in training_period)
    quartiles = F.percentile_approx("log_total", [0.25, 0.5, 0.75])
    computed = (
        tables.read_table(spark, warehouse, catalog.GOLD_FEATURES)
        .where(F.col("is_complete") & F.col("day").between(F.lit(first), F.lit(last)))
        .groupBy("household_id")
        .agg(quartiles.alias("q"), F.count(F.lit(1)).alias("days"))
        .select(
            F.lit(model_version).alias("model_version"),
            "household_id",
            F.col("q")[1].alias("base"),
            (F.col("q")[2] - F.col("q")[0]).alias("spread"),
            "days",
        )
    )
    tables.replace_where(computed, warehouse, catalog.GOLD_BASELINES, F.col("model_version") == F.lit(model_version))
    return tables.read_table(spark, warehouse, catalog.GOLD_BASELINES).where(
        F.col("model_version") == F.lit(model_version)
    )


def per_household(period_df: DataFrame, groups_df: DataFrame, baselines_df: DataFrame) -> pd.DataFrame:
    """One pass over the run's household-days: per household its ``days``, how many were
    ``complete``, its median log daily kWh over those (``now``), its ACORN group and tariff, and
    its training ``base`` and ``spread`` (NaN without a baseline)."""
    complete = F.col("is_complete")
    return (
        period_df.groupBy("household_id")
        .agg(
            F.count(F.lit(1)).alias("days"),
            F.sum(complete.cast("long")).alias("complete"),
            F.percentile_approx(F.when(complete, F.col("log_total")), 0.5).alias("now"),  # nulls are skipped
        )
        .join(groups_df, "household_id", "left")
        .join(baselines_df.select("household_id", "base", "spread"), "household_id", "left")
        .toPandas()
    )


def household_levels(households: pd.DataFrame) -> pd.DataFrame:
    """The households of ``per_household`` with complete days and a training baseline, with ``n``
    their complete days (what ``core.moved_households`` reads)."""
    levels = households[(households["complete"] > 0) & households["base"].notna()]
    return levels.assign(n=levels["complete"]).drop(columns=["days", "complete"]).reset_index(drop=True)


def write_monitoring(
    spark: SparkSession,
    warehouse: str,
    scores_df: DataFrame,
    period_df: DataFrame,
    households_df: DataFrame,
    *,
    distributions: TrainingDistributions,
    model_version: str,
    scores_version: int,
    start: dt.date,
    end: dt.date,
) -> pd.DataFrame:
    """``scores_df``: the run's gold/anomaly_scores rows; ``period_df``: the gold/features rows of
    the household-days it was to score (complete or not). Returns the rows written."""
    groups = households_df.select("household_id", "acorn_group", "tariff")
    counts = (
        scores_df.join(groups, "household_id", "left")
        .withColumn("bucket", score_bin(distributions.scores))
        .groupBy("model", "bucket", "acorn_group", "tariff")
        .agg(F.count(F.lit(1)).alias("days"), F.sum(F.col("is_anomaly").cast("long")).alias("flagged"))
        .toPandas()
    )
    counts["flagged"] = counts["flagged"].fillna(0)
    baselines = training_baselines(spark, warehouse, model_version, distributions.training_period)
    households = per_household(period_df, groups, baselines)
    completeness = households[["acorn_group", "tariff", "days", "complete"]]  # summed per slice
    rows = monitoring_rows(counts, household_levels(households), completeness, distributions)
    if rows.empty:
        return rows
    rows = rows.assign(
        scores_version=int(scores_version), model_version=model_version, period_start=start, period_end=end
    )
    computed = T.StructType([f for f in catalog.GOLD_MONITORING.schema.fields if f.name != "scored_at"])
    frame = spark.createDataFrame(
        rows[computed.fieldNames()].astype(object).where(rows[computed.fieldNames()].notna(), None), schema=computed
    ).withColumn("scored_at", F.current_timestamp())
    tables.replace_where(
        frame, warehouse, catalog.GOLD_MONITORING, F.col("scores_version") == F.lit(int(scores_version))
    )
    return rows
