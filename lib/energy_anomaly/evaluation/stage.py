"""The evaluate stage: ``gold/anomaly_scores`` + the labels of ``inject`` -> ``gold/metrics`` + a report.

Every scored household-day of the period is a test case: positive when ``inject`` labelled it,
negative otherwise. Labelled days that were not scored (incomplete after cleaning) and labels
outside the period are counted and printed, never silently dropped. The period must not overlap
the model's training period. A run is identified by the model version, the labels and the period,
so evaluating again replaces the run's rows instead of adding to them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from energy_anomaly import catalog, tables
from energy_anomaly.calendar import season
from energy_anomaly.config import is_uri
from energy_anomaly.errors import EnergyAnomalyError, InputFileError
from energy_anomaly.evaluation.metrics import model_metrics
from energy_anomaly.periods import in_period

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluateResult:
    run_id: str
    model_version: str
    labels_key: str  # the labels and period, not the model: evaluations of two models on the same labels share it
    days: int
    anomalous_days: int
    labels_not_scored: int
    labels_outside_period: int
    metrics: pd.DataFrame  # the rows written to gold/metrics
    labelled_per_type: dict[str, int]  # labelled household-days of the period per type, scored or not
    cases: pd.DataFrame  # one row per scored household-day and model, with its label and slices


def read_labels(spark: SparkSession, paths: list[str]) -> DataFrame:
    """Labels as ``inject`` wrote them, each a Delta table or a CSV folder with a header."""
    frames = []
    for path in paths:
        if not is_uri(path) and not Path(path).exists():
            raise InputFileError(path, "labels not found (a folder or Delta table written by inject)")
        if tables.table_exists(spark, path):
            frame = spark.read.format("delta").load(path)
        else:
            frame = spark.read.schema(catalog.LABELS).option("header", True).option("mode", "FAILFAST").csv(path)
        frames.append(tables.check_schema(frame, catalog.LABELS, "labels"))
    return functools.reduce(DataFrame.unionByName, frames)


def training_period(warehouse: str, version: str) -> tuple[dt.date, dt.date]:
    metadata = tables.models_dir(warehouse) / version / "metadata.json"
    if not metadata.is_file():
        raise EnergyAnomalyError(f"model {version} scored the period but {metadata} is missing")
    first, last = json.loads(metadata.read_text())["training_period"]
    return dt.date.fromisoformat(first), dt.date.fromisoformat(last)


def with_cases(scores_df: DataFrame, labels_df: DataFrame, households_df: DataFrame) -> DataFrame:
    """Each score row with its label (``anomaly_type`` null = normal) and the slice columns."""
    labels = labels_df.select("household_id", "day", "anomaly_type")
    households = households_df.select("household_id", "acorn_group", "tariff")
    return (
        scores_df.join(labels, ["household_id", "day"], how="left")
        .join(households, "household_id", how="left")
        .withColumn("season", season(F.col("day")))
        .select(
            "household_id", "day", "model", "score", "is_anomaly", "anomaly_type", "season", "acorn_group", "tariff"
        )
    )


def _model_version(scores_df: DataFrame, start: dt.date, end: dt.date) -> str:
    versions = [row[0] for row in scores_df.select("model_version").distinct().collect()]
    if not versions:
        raise EnergyAnomalyError(f"no scores in gold/anomaly_scores for {start}..{end}: run score first")
    if len(versions) > 1:
        raise EnergyAnomalyError(
            f"scores for {start}..{end} come from {len(versions)} models ({', '.join(sorted(versions))}): "
            "re-score the period with one"
        )
    return versions[0]


def labels_key_of(labels: pd.DataFrame, start: dt.date, end: dt.date) -> str:
    digest = hashlib.sha256(pd.util.hash_pandas_object(labels, index=False).to_numpy().tobytes()).hexdigest()
    return f"{start:%Y%m%d}-{end:%Y%m%d}-{digest[:8]}"


def run_id_of(version: str, labels: pd.DataFrame, start: dt.date, end: dt.date) -> str:
    return f"{version}-{labels_key_of(labels, start, end)}"


def run_evaluate(
    spark: SparkSession,
    warehouse: str,
    labels_paths: list[str],
    *,
    start: dt.date,
    end: dt.date,
    run_id: str | None = None,
) -> EvaluateResult:
    scores = tables.read_table(spark, warehouse, catalog.GOLD_SCORES).where(in_period(start, end))
    version = _model_version(scores, start, end)
    train_start, train_end = training_period(warehouse, version)
    if train_start <= end and start <= train_end:
        raise EnergyAnomalyError(
            f"evaluation period {start}..{end} overlaps model {version}'s training period {train_start}..{train_end}"
        )

    labels = read_labels(spark, labels_paths)
    labels_in_period = labels.where(in_period(start, end))
    # A household in two inputs (the sample's MAC000002 is in both layouts) is injected the same way
    # in both (the plan is seeded by household and day): the same label twice is one label.
    labels_in_period = labels_in_period.select("household_id", "day", "anomaly_type").distinct()
    label_rows = labels_in_period.toPandas().sort_values(["household_id", "day"], ignore_index=True)
    if label_rows.duplicated(["household_id", "day"]).any():
        raise EnergyAnomalyError(f"labels in {', '.join(labels_paths)} give one household-day two anomaly types")
    households = tables.read_table_or_empty(spark, warehouse, catalog.SILVER_HOUSEHOLDS)
    cases = with_cases(scores, labels_in_period, households).toPandas()
    cases["day"] = pd.to_datetime(cases["day"]).dt.date

    scored_days = cases[["household_id", "day"]].drop_duplicates()
    label_rows["day"] = pd.to_datetime(label_rows["day"]).dt.date
    not_scored = len(
        label_rows.merge(scored_days, on=["household_id", "day"], how="left", indicator=True).query(
            "_merge == 'left_only'"
        )
    )
    run_id = run_id or run_id_of(version, label_rows, start, end)
    metrics = pd.concat(
        [model_metrics(group).assign(model=model) for model, group in cases.groupby("model", sort=True)],
        ignore_index=True,
    ).assign(run_id=run_id, model_version=version, period_start=start, period_end=end)
    _write_metrics(spark, warehouse, metrics, run_id)
    anomalous = int(cases.loc[cases["anomaly_type"].notna(), ["household_id", "day"]].drop_duplicates().shape[0])
    logger.info("evaluate: run %s, %d days, %d anomalous", run_id, len(scored_days), anomalous)
    return EvaluateResult(
        run_id=run_id,
        model_version=version,
        labels_key=labels_key_of(label_rows, start, end),
        labelled_per_type={str(k): int(v) for k, v in label_rows["anomaly_type"].value_counts().items()},
        days=len(scored_days),
        anomalous_days=anomalous,
        labels_not_scored=not_scored,
        labels_outside_period=labels.where(~in_period(start, end)).select("household_id", "day").distinct().count(),
        metrics=metrics,
        cases=cases,
    )


def _write_metrics(spark: SparkSession, warehouse: str, metrics: pd.DataFrame, run_id: str) -> None:
    computed = T.StructType([f for f in catalog.GOLD_METRICS.schema.fields if f.name != "evaluated_at"])
    rows = spark.createDataFrame(metrics[computed.fieldNames()], schema=computed).withColumn(
        "evaluated_at", F.current_timestamp()
    )
    tables.replace_where(rows, warehouse, catalog.GOLD_METRICS, F.col("run_id") == F.lit(run_id))


def report_dir(warehouse: str, run_id: str) -> Path:
    """``<warehouse>/reports/<run_id>``: a run id that is not a plain folder name (``/``, ``..``,
    quotes, spaces) gets its characters replaced and a hash of the id, so it stays one folder there."""
    folder = re.sub(r"[^A-Za-z0-9_.=+-]", "_", run_id).lstrip(".")[:100]
    if folder != run_id:
        folder = f"{folder}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"
    return Path(tables.table_path(warehouse, catalog.REPORTS_FOLDER)) / folder
