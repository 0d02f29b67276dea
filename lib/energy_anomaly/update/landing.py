"""The landing zone as a Structured Streaming source: which files are new, remembered in a checkpoint.

The stream lists file names only (the ``binaryFile`` source without its ``content`` column reads
no bytes); each micro-batch hands its files to ``run_update``, which reads them as the batch
ingest does (layout by header, strict grammar, quarantine). Spark's file source records a batch's
files in the checkpoint's offset log before the batch runs and marks it committed after
``foreachBatch`` returns, so a batch that failed or was killed is run again with the same files
on the next start; ``run_update`` replaces what a partial run wrote. Files already committed are
never read again. On Spark Connect (no ``foreachBatch`` in this process) one batch instead:
the files not yet in a Delta table of applied files beside the checkpoints (``run_without_stream``).
Each mode also honours the other's record, so a zone moved between them is not applied again:
Connect reads the stream's committed files from its checkpoint (``stream_committed``), and the
stream skips the files the table lists.

Landing rule: a file becomes visible to the stream when its final name appears. Write it under a
name starting with ``.`` or ``_`` (Hadoop and Spark skip those) or not ending in ``.csv``,
``.csv.gz``, ``.gz`` or ``.txt``, then rename it in the same folder (atomic on POSIX file systems
and HDFS). Object stores make an object visible only once its upload is complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable
from urllib.parse import unquote

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from energy_anomaly import tables
from energy_anomaly.catalog import Table
from energy_anomaly.config import local_path
from energy_anomaly.errors import EnergyAnomalyError
from energy_anomaly.ingest.sources import DATA_SUFFIXES
from energy_anomaly.periods import is_in
from energy_anomaly.session import is_connect

logger = logging.getLogger(__name__)

CHECKPOINTS_FOLDER = "checkpoints"
# Spark's file source forgets files older than maxFileAge (default 7 days) relative to the newest
# it has seen: a late file with an old modification time (copied with its times kept) would be
# skipped without a word. No file is too old to be read.
NO_MAXIMUM_AGE = "36500d"
# How often the driver looks at a running stream for a stop request (and the timeout).
WAIT_STEP_S = 0.5
BINARY_FILE = "path STRING, modificationTime TIMESTAMP, length BIGINT, content BINARY"
DATA_FILES = "*.{" + ",".join(suffix.lstrip(".") for suffix in DATA_SUFFIXES if suffix.count(".") == 1) + "}"


def checkpoint_folder(landing: str) -> str:
    """One checkpoint per landing zone under the warehouse: ``checkpoints/update-<digest of the zone>``."""
    digest = hashlib.sha256(landing.rstrip("/").encode()).hexdigest()[:16]
    return f"{CHECKPOINTS_FOLDER}/update-{digest}"


def checkpoint_path(warehouse: str, landing: str) -> str:
    return tables.table_path(warehouse, checkpoint_folder(landing))


def data_files(reader):
    """The landing zone's data files through the ``binaryFile`` source of ``reader``
    (``spark.read`` or ``spark.readStream``); only names, sizes and times are selected, so no
    contents are read."""
    return reader.format("binaryFile").option("pathGlobFilter", DATA_FILES).option("recursiveFileLookup", "true")


def new_files(spark: SparkSession, landing: str) -> DataFrame:
    """A stream of the landing zone's data files (names, sizes, times; no contents)."""
    return (
        data_files(spark.readStream)
        .schema(BINARY_FILE)  # the source's fixed schema; streaming sources must be given theirs
        .option("maxFileAge", NO_MAXIMUM_AGE)
        .load(landing)
        .select("path", "length", "modificationTime")
    )


@dataclass
class Batches:
    """What the stream's batches did, and the first error one raised (re-raised by ``run``)."""

    results: list = field(default_factory=list)
    error: BaseException | None = None
    stopped: bool = False  # on a stop request, after the batch in progress was committed


def run(
    spark: SparkSession,
    warehouse: str,
    landing: str,
    apply: Callable[[list[str]], object],
    every_seconds: int | None = None,
    timeout_seconds: float | None = None,
    stop: threading.Event | None = None,
) -> Batches:
    """Feeds the landing zone's new files to ``apply``, a batch at a time. With ``every_seconds``
    None, processes what has landed and stops (``availableNow``); otherwise checks every so many
    seconds until stopped (or ``timeout_seconds`` pass).

    Once ``stop`` is set, the stream stops when no trigger is active: a batch in progress is
    applied and committed first. Stopping the query mid-batch would interrupt it, and its files
    would be applied again in full on the next start (correct, but a batch's time lost)."""
    if is_connect(spark):
        return run_without_stream(spark, warehouse, landing, apply, every_seconds)
    batches = Batches()
    applied_on_connect = connect_applied(spark, warehouse, landing)

    def each_batch(files: DataFrame, batch_id: int) -> None:
        listed = sorted(row["path"] for row in files.select("path").collect())
        paths = [path for path in listed if path not in applied_on_connect]
        if len(paths) < len(listed):
            print(f"update: {len(listed) - len(paths)} file(s) already applied through Spark Connect; skipped")
        if not paths:
            return
        logger.info("update batch %d: %d new file(s)", batch_id, len(paths))
        try:
            batches.results.append(apply(paths))
        except BaseException as exc:
            batches.error = exc
            raise

    writer = (
        new_files(spark, landing)
        .writeStream.foreachBatch(each_batch)
        .option("checkpointLocation", checkpoint_path(warehouse, landing))
        .queryName("energy-anomaly-update")
    )
    writer = (
        writer.trigger(availableNow=True)
        if every_seconds is None
        else writer.trigger(processingTime=f"{every_seconds} seconds")
    )
    query = writer.start()
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    try:
        while not query.awaitTermination(WAIT_STEP_S):
            if deadline is not None and time.monotonic() >= deadline:
                break
            # A trigger is active from its listing of the zone to its commit: between triggers
            # every batch the stream started is committed.
            if stop is not None and stop.is_set() and not query.status["isTriggerActive"]:
                batches.stopped = True
                break
    except Exception as exc:
        if batches.error is not None:
            raise batches.error from None
        raise EnergyAnomalyError(f"update stream stopped: {str(exc).strip().splitlines()[0][:300]}") from exc
    finally:
        if query.isActive:
            query.stop()
    if batches.error is not None:
        raise batches.error
    return batches


APPLIED = Table(
    "checkpoints/update-<zone>/applied",  # one per landing zone: applied_table
    T.StructType(
        [
            T.StructField("path", T.StringType(), False),
            T.StructField("length", T.LongType(), False),
            T.StructField("modificationTime", T.TimestampType(), True),
            T.StructField("applied_at", T.TimestampType(), False),
        ]
    ),
    "The landing zone's files an update applied on Spark Connect, one row each (what the "
    "stream's checkpoint records in classic mode).",
)


def applied_table(landing: str) -> Table:
    """The landing zone's table of applied files, beside its checkpoint."""
    return replace(APPLIED, name=f"{checkpoint_folder(landing)}/applied")


def connect_applied(spark: SparkSession, warehouse: str, landing: str) -> frozenset[str]:
    """The files an update on Spark Connect applied from this zone (none where it never ran).
    Classic mode only: whether the table exists is asked of the file system, which in a fresh JVM
    is ~1.5 s cheaper than asking Delta, on every scheduled update."""
    path = tables.table_path(warehouse, applied_table(landing))
    if not still_there(spark, f"{path}/_delta_log"):
        return frozenset()
    return frozenset(row["path"] for row in spark.read.format("delta").load(path).select("path").collect())


def stream_committed(spark: SparkSession, warehouse: str, landing: str) -> set[str]:
    """The files the zone's stream (classic mode) applied: the file source log's entries of the
    batches its commit log holds, as the ``binaryFile`` source names them. Read through Spark, as
    the checkpoint may be on storage only the server sees; none where the stream never ran.

    The source log holds one file per batch (``N``, every tenth compacted with all before it as
    ``N.compact``), each a version line then one JSON entry per file; its paths are URIs
    (``file:///a%20b.csv`` for the source's ``file:/a b.csv``)."""
    checkpoint = checkpoint_path(warehouse, landing)
    try:
        commits = spark.read.text(f"{checkpoint}/commits").select(F.col("_metadata.file_name").alias("name"))
        committed = [int(row["name"]) for row in commits.distinct().collect() if row["name"].isdigit()]
        if not committed:
            return set()
        last = max(committed)
        log = spark.read.text(f"{checkpoint}/sources/0").where(F.col("value").startswith("{")).collect()
    except AnalysisException as exc:
        if exc.getCondition() == "PATH_NOT_FOUND":
            return set()
        raise
    entries = (json.loads(row["value"]) for row in log)
    return {source_path(entry["path"]) for entry in entries if entry["batchId"] <= last}


def source_path(uri: str) -> str:
    """A file source log's path (a URI) as the ``binaryFile`` source names the file."""
    path = unquote(uri)
    return "file:/" + path.removeprefix("file:///") if path.startswith("file:///") else path


def run_without_stream(
    spark: SparkSession,
    warehouse: str,
    landing: str,
    apply: Callable[[list[str]], object],
    every_seconds: int | None,
) -> Batches:
    """``run`` on Spark Connect, which runs a ``foreachBatch`` function in a server-side Python
    process with its own session (the batches' results and errors would not come back here).
    One batch: the zone's data files (listed by the same ``binaryFile`` source) not yet in the
    Delta table of applied files beside the checkpoints, recorded once ``apply`` returns, nor
    committed by the zone's stream in classic mode. A run killed before the record is applied
    again, and ``run_update`` replaces what it wrote."""
    if every_seconds is not None:
        raise EnergyAnomalyError(
            "--every needs a classic Spark session (a stream); on Spark Connect schedule `update` "
            "instead (e.g. a Databricks file-arrival trigger)"
        )
    applied = applied_table(landing)
    listed = data_files(spark.read).load(landing).select("path", "length", "modificationTime")
    done = tables.read_table_or_empty(spark, warehouse, applied).select("path")
    by_stream = stream_committed(spark, warehouse, landing)
    new = [row for row in listed.join(done, "path", "left_anti").collect() if row["path"] not in by_stream]
    batches = Batches()
    if not new:
        return batches
    paths = sorted(row["path"] for row in new)
    logger.info("update: %d new file(s)", len(paths))
    batches.results.append(apply(paths))
    record = spark.createDataFrame(new, T.StructType(APPLIED.schema.fields[:3]))
    tables.replace_where(
        record.withColumn("applied_at", F.current_timestamp()), warehouse, applied, is_in("path", paths)
    )
    return batches


def still_there(spark: SparkSession, path: str) -> bool:
    """Whether a file the stream listed still exists (a removed file has no rows to lose). On
    Spark Connect a file on remote storage is taken to be there (its read then names it if not)."""
    if is_connect(spark):
        local = local_path(path)
        return local is None or os.path.exists(local)
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(hadoop_path)
