"""The score stage: ``gold/features`` + a model bundle -> ``gold/anomaly_scores``, ``gold/anomalies``.

The bundle is shipped to the executors once, as one zip (``ship_bundle``; read in place from a
Unity Catalog Volume), and loaded once per Python worker (a module-level cache keyed by its
version); its networks run in numpy (``models.forward``: no TensorFlow on the executors), on one
thread per task. Work is grouped by household: each group sees its household's days plus the 7 days before
the period (the LSTM's window). Re-scoring a period replaces exactly that period's rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pyspark import SparkFiles, StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.util import inheritable_thread_target

from energy_anomaly import catalog, tables
from energy_anomaly.catalog import MODELS, SCORED_MODELS, SLOT_MINUTES
from energy_anomaly.models.bundle import (
    Bundle,
    archive_bundle,
    read_thresholds_and_version,
    read_training_distributions,
)
from energy_anomaly.models.inputs import HISTORY_DAYS
from energy_anomaly.monitoring.stage import write_monitoring
from energy_anomaly.periods import filter_period, household_days, in_period, month_of
from energy_anomaly.scoring.core import WIDE_COLUMNS, score_in_calls
from energy_anomaly.session import cores, is_connect, tasks_for

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
        T.StructField("reason", T.StringType(), True),
    ]
)
assert tuple(WIDE.fieldNames()) == WIDE_COLUMNS, "scoring.core builds the wide rows in this order"

KWH_DECIMALS = 3
# Math threads per Python worker (numpy's BLAS; TensorFlow's, for a network numpy does not run):
# Spark already runs one task per core.
WORKER_THREADS = 1
# Feature rows a scoring task holds at once (its partition, as one pandas frame): a small context
# is scored in as many tasks as cores, a larger one in more.
ROWS_PER_TASK = 30_000
_BUNDLES: dict[str, Bundle] = {}
# Spark ends a Python worker that has been idle for a minute (PythonWorkerFactory; not a setting):
# a long-running update runs its warm-up job more often than that between batches.
KEEP_WARM_EVERY_S = 30
KEEP_WARM_GROUP = "energy-anomaly-keep-warm"
# How long the end of an update waits for a warm-up in flight; one still waiting for its slots
# after that is left to its daemon thread.
KEEP_WARM_STOP_S = 60


def ship_bundle(spark: SparkSession, bundle_path: Path) -> str:
    """Makes the bundle readable on every node; returns how workers find it (``worker_bundle``).

    A bundle on a Unity Catalog Volume is read there by every node (``/Volumes`` is mounted on
    Databricks' workers): its folder is the answer, nothing is shipped. Otherwise its zip goes
    to every node once, unpacked under its name in the Spark files folder:
    ``SparkContext.addArchive``, or on Spark Connect (no SparkContext) the session's
    ``addArtifacts``. The zip's name holds the bundle's version, so a second scoring run of one
    session ships nothing new."""
    if on_volume(bundle_path):
        return str(bundle_path)
    archive = archive_bundle(bundle_path)
    if not is_connect(spark):
        spark.sparkContext.addArchive(str(archive))
        return archive.name
    try:
        spark.addArtifacts(str(archive), archive=True)
    except Exception as exc:  # the session already holds this version's archive
        if "already exists" not in str(exc).lower() and "duplicate" not in str(exc).lower():
            raise
    return archive.name


def on_volume(path: Path | str) -> bool:
    """A path on a Unity Catalog Volume (``/Volumes/<catalog>/<schema>/<volume>/...``)."""
    parts = Path(path).parts
    return Path(path).is_absolute() and len(parts) >= 5 and parts[1] == "Volumes"


def worker_bundle(shipped: str) -> Bundle:
    """The bundle ``ship_bundle`` made readable: a folder path, or the name of the archive Spark
    unpacked on this node; loaded once per Python worker process."""
    if shipped not in _BUNDLES:
        from threadpoolctl import threadpool_limits

        # For the worker's life: a BLAS thread pool per worker, on cores Spark fills with tasks,
        # only competes with the other tasks (and starting it costs ~1 s on a first call).
        threadpool_limits(WORKER_THREADS, user_api="blas")
        folder = shipped if Path(shipped).is_absolute() else SparkFiles.get(shipped)
        _BUNDLES[shipped] = Bundle.load(folder, threads=WORKER_THREADS)
    return _BUNDLES[shipped]


def warm_workers(spark: SparkSession, shipped: str) -> None:
    """One task per core, run at once (a barrier stage, so each runs in a Python worker of its own),
    that imports the features' and scoring's code and loads the bundle ``ship_bundle`` shipped:
    starts the workers if there are none, and keeps idle ones from being ended."""
    slots = cores(spark)

    def warm(batches):
        import energy_anomaly.features.core  # noqa: F401  (the features step's pandas code)

        worker_bundle(shipped)
        for _ in batches:
            pass
        return iter(())

    spark.range(0, slots, 1, slots).mapInPandas(warm, "id long", barrier=True).collect()


@contextmanager
def workers_kept_warm(
    spark: SparkSession, bundle_path: str | Path, every_s: float = KEEP_WARM_EVERY_S
) -> Iterator[threading.Event]:
    """For a long-running update: yields an event for the caller to set while a batch runs. Every
    ``every_s`` that it is not set, ``warm_workers`` runs, so a batch an hour after the last one
    finds the Python workers started, with their code imported and the bundle loaded (otherwise
    they start again in each batch's features and scores steps: ~3 s of a day's batch).

    A batch never waits for the warm-up: a barrier stage that cannot get its slots (a cluster
    with fewer free slots than ``cores``) only delays the next warm-up. A failed warm-up is logged
    and not tried again: each batch then starts its workers itself. On Spark Connect the server's
    workers are out of reach: the event is all there is."""
    in_batch = threading.Event()
    if is_connect(spark):
        yield in_batch
        return
    shipped = ship_bundle(spark, Path(bundle_path))
    stop = threading.Event()

    def keep() -> None:
        spark.sparkContext.setJobGroup(KEEP_WARM_GROUP, "keep the Python workers warm between update batches")
        while not stop.wait(every_s):
            if in_batch.is_set():
                continue  # the batch's tasks use the workers
            try:
                warm_workers(spark, shipped)
            except Exception as exc:  # noqa: BLE001  (each batch starts its workers itself)
                # e.g. dynamic allocation, which barrier stages refuse: said once, not every 30 s.
                logger.info("Python workers not kept warm: %s", str(exc).strip().splitlines()[0][:200])
                return

    thread = threading.Thread(target=inheritable_thread_target(spark)(keep), name="keep-workers-warm", daemon=True)
    thread.start()
    try:
        yield in_batch
    finally:
        stop.set()
        thread.join(timeout=KEEP_WARM_STOP_S)


@dataclass(frozen=True)
class ScoreResult:
    days: int
    score_rows: int
    anomalies: int
    version: str
    monitoring: pd.DataFrame  # the run's gold/monitoring rows


def score_wide(features_df: DataFrame, bundle_name: str, start: dt.date, end: dt.date, n_groups: int) -> DataFrame:
    """The complete days of ``features_df`` in start..end, scored; ``features_df`` holds each
    household's days from ``HISTORY_DAYS`` before its first scored day. The rows are hashed by
    household into ``n_groups`` partitions, each one Python task (a household's days stay in one:
    its history windows need them), scored in model calls of whole households.

    Partitions, not ``groupBy(bucket)``: Spark hashes the bucket numbers again into the shuffle's
    partitions, and buckets 0 and 1 land in the same one, so a daily update's two groups ran one
    after the other on one core (16 buckets made 10 partitions, up to 3 buckets in one)."""

    def body(batches):
        parts = list(batches)
        if parts:  # a partition no household hashed to brings no batch
            yield score_in_calls(pd.concat(parts, ignore_index=True), worker_bundle(bundle_name), start, end)

    return features_df.repartition(n_groups, "household_id").mapInPandas(body, WIDE)


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
        .withColumn("month", month_of("day"))
        .select(*catalog.GOLD_SCORES.schema.fieldNames())
    )


def slot_time(slot: F.Column) -> F.Column:
    return F.format_string("%02d:%02d", (slot * SLOT_MINUTES / 60).cast("int"), slot * SLOT_MINUTES % 60)


def to_anomalies(
    wide_df: DataFrame, households_df: DataFrame, model: str, thresholds: dict[str, float], version: str
) -> DataFrame:
    """Flagged household-days of ``model`` with what an analyst needs to act, and the ``reason``
    their features give (``scoring.reasons``)."""
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
            # Metered to the Wh: an analyst reads 4.523, not 4.522907139301300.
            F.round("actual_kwh", KWH_DECIMALS).alias("actual_kwh"),
            F.round("expected_kwh", KWH_DECIMALS).alias("expected_kwh"),
            F.round(F.col("actual_kwh") - F.col("expected_kwh"), KWH_DECIMALS).alias("deviation_kwh"),
            F.transform("top_slots", slot_time).alias("top_deviating_times"),
            F.transform("top_deviation_kwh", lambda v: F.round(v, KWH_DECIMALS)).alias("top_deviation_kwh"),
            *[F.col(f"score_{m}") for m in MODELS],
            "tariff",
            "acorn_group",
            F.lit(version).alias("model_version"),
            month_of("day").alias("month"),
            "reason",
        )
        .select(*catalog.GOLD_ANOMALIES.schema.fieldNames())
    )


def current_features(spark: SparkSession, warehouse: str) -> DataFrame:
    """gold/features, refused if an older version wrote it without a feature the models read."""
    return tables.require_current(
        tables.read_table(spark, warehouse, catalog.GOLD_FEATURES), catalog.GOLD_FEATURES, "features"
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
    """Scores every household's days in start..end, replacing that period's earlier scores."""
    features = current_features(spark, warehouse)
    context = features.transform(filter_period, start - dt.timedelta(days=HISTORY_DAYS), end)
    return score_and_replace(
        spark,
        warehouse,
        bundle_path,
        context,
        start=start,
        end=end,
        replaced=in_period(start, end),
        flag_model=flag_model,
    )


def run_score_unscored(
    spark: SparkSession, warehouse: str, bundle_path: str | Path, *, flag_model: str = "ensemble"
) -> ScoreResult | None:
    """Scores every household's complete days from its first day gold/anomaly_scores does not
    hold (a later day it does hold is scored again, with this model); None if every day is scored."""
    ranges = unscored_ranges(spark, warehouse)
    if not ranges:
        return None
    features = current_features(spark, warehouse)
    start = min(first for first, _ in ranges.values())
    end = max(last for _, last in ranges.values())
    context_ranges = {h: (first - dt.timedelta(days=HISTORY_DAYS), last) for h, (first, last) in ranges.items()}
    return score_and_replace(
        spark,
        warehouse,
        bundle_path,
        features.where(household_days(context_ranges)),
        start=start,
        end=end,
        replaced=household_days(ranges),
        flag_model=flag_model,
    )


def unscored_ranges(spark: SparkSession, warehouse: str) -> dict[str, tuple[dt.date, dt.date]]:
    """Per household, its first complete feature day with no score, and its last complete day."""
    features = current_features(spark, warehouse).where("is_complete")
    scored = tables.read_table_or_empty(spark, warehouse, catalog.GOLD_SCORES).where(
        F.col("model") == F.lit(catalog.ENSEMBLE)
    )
    unscored = features.select("household_id", "day").join(
        scored.select("household_id", "day"), ["household_id", "day"], "left_anti"
    )
    first = unscored.groupBy("household_id").agg(F.min("day").alias("first"))
    last = features.groupBy("household_id").agg(F.max("day").alias("last"))
    rows = first.join(last, "household_id").collect()
    return {row["household_id"]: (row["first"], row["last"]) for row in rows}


def score_and_replace(
    spark: SparkSession,
    warehouse: str,
    bundle_path: str | Path,
    context: DataFrame,
    *,
    start: dt.date,
    end: dt.date,
    replaced: Column,
    flag_model: str = "ensemble",
    rows: int | None = None,
) -> ScoreResult:
    """Scores the days of ``context`` (feature rows, each household's with the ``HISTORY_DAYS``
    before its first scored day) that fall in start..end, and writes them in place of the rows
    ``replaced`` selects in gold/anomaly_scores and gold/anomalies (one commit per table).
    ``rows``, if known, bounds the context's rows: a small context is scored in as few groups as
    the cluster has cores, each group one Python task with its own model calls."""
    bundle_path = Path(bundle_path)
    # The driver needs only thresholds and version: no TensorFlow on the driver for scoring.
    thresholds, version = read_thresholds_and_version(bundle_path)
    shipped = ship_bundle(spark, bundle_path)
    households = tables.read_table_or_empty(spark, warehouse, catalog.SILVER_HOUSEHOLDS)
    n_groups = int(spark.conf.get("spark.sql.shuffle.partitions"))
    if rows is not None:
        n_groups = min(n_groups, tasks_for(spark, rows, ROWS_PER_TASK))
    wide = score_wide(context, shipped, start, end, n_groups).persist(StorageLevel.MEMORY_AND_DISK)
    scored = to_scores(wide, thresholds, version).where(replaced)
    try:
        # The rows are filtered on ``replaced`` here (Spark hashes a long list of households),
        # so Delta's per-row check of the same condition, which would not, is off.
        scores = tables.replace_counted(
            scored,
            warehouse,
            catalog.GOLD_SCORES,
            replaced,
            rows_match_by_construction=True,
        )
        # gold/anomalies and gold/monitoring both read the wide rows, cached by the scores' write,
        # and write tables of their own: the driver plans and commits one while the other's jobs
        # run (each is mostly driver work: Delta snapshots, planning, a commit).
        with ThreadPoolExecutor(max_workers=1) as pool:
            flagged = pool.submit(
                inheritable_thread_target(spark)(tables.replace_counted),
                to_anomalies(wide, households, flag_model, thresholds, version).where(replaced),
                warehouse,
                catalog.GOLD_ANOMALIES,
                replaced,
                rows_match_by_construction=True,
            )
            # A run that committed nothing is identified by the table's version as it stands.
            scores_version = scores.version if scores.version is not None else tables.table_version(spark, scores.path)
            monitoring = write_monitoring(
                spark,
                warehouse,
                scored,
                context.where(replaced),
                households,
                distributions=read_training_distributions(bundle_path),
                model_version=version,
                scores_version=scores_version,
                start=start,
                end=end,
            )
            anomalies = flagged.result()
    finally:
        wide.unpersist()
    return ScoreResult(
        monitoring=monitoring,
        days=scores.rows // len(SCORED_MODELS),  # one row per model and day, as written
        score_rows=scores.rows,
        anomalies=anomalies.rows,
        version=version,
    )
