"""The score stage: ``gold/features`` + a model bundle -> ``gold/anomaly_scores``, ``gold/anomalies``.

The bundle is shipped to the executors once, as one zip (``SparkContext.addArchive``), and loaded once per
Python worker (a module-level cache keyed by its version), with TensorFlow on one thread per
task. Work is grouped by household: each group sees its household's days plus the 7 days before
the period (the LSTM's window). Re-scoring a period replaces exactly that period's rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pyspark import SparkFiles, StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from energy_anomaly import catalog, tables
from energy_anomaly.catalog import MODELS, SCORED_MODELS, SLOT_MINUTES
from energy_anomaly.models.bundle import Bundle, archive_bundle, read_thresholds_and_version
from energy_anomaly.models.inputs import HISTORY_DAYS
from energy_anomaly.periods import filter_period, in_period
from energy_anomaly.scoring.core import score_in_calls

logger = logging.getLogger(__name__)


WIDE = T.StructType(
    [
        T.StructField("household_id", T.StringType(), False),
        T.StructField("day", T.DateType(), False),
        T.StructField("actual_kwh", T.DoubleType(), True),
        T.StructField("expected_kwh", T.DoubleType(), True),
        T.StructField("top_slots", T.ArrayType(T.IntegerType()), True),
        T.StructField("top_deviation_kwh", T.ArrayType(T.DoubleType()), True),
        *[T.StructField(f"score_{m}", T.DoubleType(), True) for m in SCORED_MODELS],
    ]
)

# TensorFlow threads per Python worker: Spark already runs one task per core.
WORKER_THREADS = 1
_BUNDLES: dict[str, Bundle] = {}


def worker_bundle(name: str) -> Bundle:
    """The bundle shipped with addArchive (unpacked by Spark on each node), loaded once per Python worker process."""
    if name not in _BUNDLES:
        _BUNDLES[name] = Bundle.load(SparkFiles.get(name), threads=WORKER_THREADS)
    return _BUNDLES[name]


@dataclass(frozen=True)
class ScoreResult:
    days: int
    score_rows: int
    anomalies: int
    version: str


def score_wide(features_df: DataFrame, bundle_name: str, start: dt.date, end: dt.date, n_groups: int) -> DataFrame:
    """Groups are hash buckets of households: every household's days stay in one group (its
    history windows need them), and each group is scored in model calls of whole households."""

    def body(frame: pd.DataFrame) -> pd.DataFrame:
        return score_in_calls(frame, worker_bundle(bundle_name), start, end)

    context = features_df.transform(filter_period, start - dt.timedelta(days=HISTORY_DAYS), end)
    bucket = F.pmod(F.xxhash64("household_id"), F.lit(n_groups)).alias("bucket")
    return context.groupBy(bucket).applyInPandas(body, WIDE)


def to_scores(wide_df: DataFrame, thresholds: dict[str, float], version: str) -> DataFrame:
    """Wide rows -> one row per household-day and model (the contract's anomaly_scores)."""
    per_model = F.array(
        *[
            F.struct(
                F.lit(m).alias("model"), F.col(f"score_{m}").alias("score"), F.lit(thresholds[m]).alias("threshold")
            )
            for m in SCORED_MODELS
        ]
    )
    return (
        wide_df.select("household_id", "day", F.inline(per_model))
        .withColumn("is_anomaly", F.col("score") > F.col("threshold"))
        .withColumn("model_version", F.lit(version))
        .withColumn("month", F.trunc("day", "month"))
        .select(*catalog.GOLD_SCORES.schema.fieldNames())
    )


def slot_time(slot: F.Column) -> F.Column:
    return F.format_string("%02d:%02d", (slot * SLOT_MINUTES / 60).cast("int"), slot * SLOT_MINUTES % 60)


def to_anomalies(
    wide_df: DataFrame, households_df: DataFrame, model: str, thresholds: dict[str, float], version: str
) -> DataFrame:
    """Flagged household-days of ``model`` with what an analyst needs to act."""
    households = households_df.select("household_id", "tariff", "acorn_group")
    flagged = wide_df.where(F.col(f"score_{model}") > thresholds[model])
    return (
        flagged.join(households, "household_id", how="left")
        .select(
            "household_id",
            "day",
            F.lit(model).alias("model"),
            F.col(f"score_{model}").alias("score"),
            F.lit(thresholds[model]).alias("threshold"),
            "actual_kwh",
            "expected_kwh",
            (F.col("actual_kwh") - F.col("expected_kwh")).alias("deviation_kwh"),
            F.transform("top_slots", slot_time).alias("top_deviating_times"),
            "top_deviation_kwh",
            *[F.col(f"score_{m}") for m in MODELS],
            "tariff",
            "acorn_group",
            F.lit(version).alias("model_version"),
            F.trunc("day", "month").alias("month"),
        )
        .select(*catalog.GOLD_ANOMALIES.schema.fieldNames())
    )


def run_score(
    spark: SparkSession,
    warehouse: str,
    bundle_path: str | Path,
    *,
    start: dt.date,
    end: dt.date,
    flag_model: str = "ensemble",
) -> ScoreResult:
    bundle_path = Path(bundle_path)
    # The driver needs only thresholds and version: no TensorFlow on the driver for scoring.
    thresholds, version = read_thresholds_and_version(bundle_path)
    archive = archive_bundle(bundle_path)
    spark.sparkContext.addArchive(str(archive))
    features = tables.read_table(spark, warehouse, catalog.GOLD_FEATURES)
    households = tables.read_table_or_empty(spark, warehouse, catalog.SILVER_HOUSEHOLDS)
    n_groups = int(spark.conf.get("spark.sql.shuffle.partitions"))
    wide = score_wide(features, archive.name, start, end, n_groups).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        period = in_period(start, end)
        before = {
            table: tables.table_version(spark, tables.table_path(warehouse, table))
            for table in (catalog.GOLD_SCORES, catalog.GOLD_ANOMALIES)
        }
        scores_path = tables.replace_where(to_scores(wide, thresholds, version), warehouse, catalog.GOLD_SCORES, period)
        anomalies_path = tables.replace_where(
            to_anomalies(wide, households, flag_model, thresholds, version),
            warehouse,
            catalog.GOLD_ANOMALIES,
            period,
        )
    finally:
        wide.unpersist()
    score_rows = tables.rows_written(spark, scores_path, before=before[catalog.GOLD_SCORES])
    return ScoreResult(
        days=score_rows // len(SCORED_MODELS),  # one row per model and day, as written
        score_rows=score_rows,
        anomalies=tables.rows_written(spark, anomalies_path, before=before[catalog.GOLD_ANOMALIES]),
        version=version,
    )
