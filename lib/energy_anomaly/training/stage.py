"""The train stage: ``gold/features`` (+ ``silver/households``) -> a model bundle.

The sample is drawn on Spark; each sampled day gets its previous 7 days' profiles from its
household's rows (per-household pandas); the sample is collected and fitted on the driver.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from energy_anomaly import catalog, tables
from energy_anomaly.errors import EnergyAnomalyError
from energy_anomaly.models.inputs import HISTORY_DAYS, day_windows
from energy_anomaly.monitoring.stage import training_baselines
from energy_anomaly.periods import filter_period
from energy_anomaly.training.fit import fit_bundle
from energy_anomaly.training.sample import STRATUM, stratified_sample

logger = logging.getLogger(__name__)

TRAINING_ROWS = T.StructType(
    catalog.GOLD_FEATURES.schema.fields
    + [
        T.StructField(name, T.StringType(), True)
        for name in STRATUM
        if name not in catalog.GOLD_FEATURES.schema.fieldNames()
    ]
    + [
        T.StructField("is_sampled", T.BooleanType(), False),
        T.StructField("history", T.ArrayType(T.DoubleType()), False),
    ]
)


@dataclass(frozen=True)
class TrainResult:
    path: str
    version: str
    metadata: dict
    features_version: int  # the gold/features Delta version the sample was drawn from (lineage)


def _sampled_with_history(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values("day").reset_index(drop=True)
    keep = frame["is_sampled"].to_numpy(bool)
    out = frame[keep].copy()
    out["history"] = [w.ravel().tolist() for w in day_windows(frame, keep)]
    return out


def training_rows(features_df: DataFrame, sample_df: DataFrame, start: dt.date, end: dt.date) -> DataFrame:
    """The sampled days with their features, strata and 7-day history."""
    context = features_df.transform(filter_period, start - dt.timedelta(days=HISTORY_DAYS), end)
    strata = sample_df.select("household_id", "day", "acorn_group", "tariff", F.lit(True).alias("is_sampled"))
    marked = context.join(strata, ["household_id", "day"], how="left").withColumn(
        "is_sampled", F.coalesce("is_sampled", F.lit(False))
    )
    sampled_households = sample_df.select("household_id").distinct()
    return (
        marked.join(sampled_households, "household_id", how="left_semi")
        .groupBy("household_id")
        .applyInPandas(_sampled_with_history, TRAINING_ROWS)
    )


def run_train(
    spark: SparkSession,
    warehouse: str,
    *,
    start: dt.date,
    end: dt.date,
    per_stratum: int,
    seed: int,
    threshold_quantile: float,
    epochs: int,
) -> TrainResult:
    features_path = tables.table_path(warehouse, catalog.GOLD_FEATURES)
    # Read at one version, recorded: the sample is reproducible while that version is kept.
    features_version = tables.table_version(spark, features_path)
    if features_version is None:
        tables.read_table(spark, warehouse, catalog.GOLD_FEATURES)  # its one-line error: run features first
    features = tables.require_current(
        spark.read.format("delta").option("versionAsOf", features_version).load(features_path),
        catalog.GOLD_FEATURES,
        "features",
    )
    households = tables.read_table_or_empty(spark, warehouse, catalog.SILVER_HOUSEHOLDS)
    sample = stratified_sample(features, households, start=start, end=end, per_stratum=per_stratum, seed=seed)
    rows = training_rows(features, sample, start, end).toPandas()
    if len(rows) < 100:
        raise EnergyAnomalyError(f"only {len(rows)} complete household-days in {start}..{end}: too few to train on")
    logger.info("train: %d sampled days from %d households", len(rows), rows["household_id"].nunique())
    bundle = fit_bundle(
        rows, seed=seed, threshold_quantile=threshold_quantile, train_start=start, train_end=end, epochs=epochs
    )
    folder = tables.models_dir(warehouse) / bundle.version
    # The same version is the same training (bundle.version_of): a bundle already saved under it
    # is kept, since a registered version's digest binds those files (Keras stamps each save).
    # metadata.json is written last, so a save that was cut short is redone.
    if not (folder / "metadata.json").is_file():
        bundle.save(folder)
    # Each household's level over the training period, for monitoring: computed here, where the
    # period's features are being read, rather than by a daily update's first scoring run.
    training_baselines(spark, warehouse, bundle.version, (str(start), str(end)))
    return TrainResult(str(folder), bundle.version, bundle.metadata, features_version)
