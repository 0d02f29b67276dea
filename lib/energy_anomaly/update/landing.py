"""The landing zone as a Structured Streaming source: which files are new, remembered in a checkpoint.

The stream lists file names only (the ``binaryFile`` source without its ``content`` column reads
no bytes); each micro-batch hands its files to ``run_update``, which reads them as the batch
ingest does (layout by header, strict grammar, quarantine). Spark's file source records a batch's
files in the checkpoint's offset log before the batch runs and marks it committed after
``foreachBatch`` returns, so a batch that failed or was killed is run again with the same files
on the next start; ``run_update`` replaces what a partial run wrote. Files already committed are
never read again.

Landing rule: a file becomes visible to the stream when its final name appears. Write it under a
name starting with ``.`` or ``_`` (Hadoop and Spark skip those) or not ending in ``.csv``,
``.csv.gz``, ``.gz`` or ``.txt``, then rename it in the same folder (atomic on POSIX file systems
and HDFS). Object stores make an object visible only once its upload is complete.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Callable

from pyspark.sql import DataFrame, SparkSession

from energy_anomaly import tables
from energy_anomaly.errors import EnergyAnomalyError
from energy_anomaly.ingest.sources import DATA_SUFFIXES

logger = logging.getLogger(__name__)

CHECKPOINTS_FOLDER = "checkpoints"
# Spark's file source forgets files older than maxFileAge (default 7 days) relative to the newest
# it has seen: a late file with an old modification time (copied with its times kept) would be
# skipped without a word. No file is too old to be read.
NO_MAXIMUM_AGE = "36500d"
BINARY_FILE = "path STRING, modificationTime TIMESTAMP, length BIGINT, content BINARY"
DATA_FILES = "*.{" + ",".join(suffix.lstrip(".") for suffix in DATA_SUFFIXES if suffix.count(".") == 1) + "}"


def checkpoint_path(warehouse: str, landing: str) -> str:
    """One checkpoint per landing zone under the warehouse: ``checkpoints/update-<digest of the zone>``."""
    digest = hashlib.sha256(landing.rstrip("/").encode()).hexdigest()[:16]
    return f"{tables.table_path(warehouse, CHECKPOINTS_FOLDER)}/update-{digest}"


def new_files(spark: SparkSession, landing: str) -> DataFrame:
    """A stream of the landing zone's data files (names, sizes, times; no contents)."""
    return (
        spark.readStream.format("binaryFile")
        .schema(BINARY_FILE)  # the source's fixed schema; streaming sources must be given theirs
        .option("pathGlobFilter", DATA_FILES)
        .option("recursiveFileLookup", "true")
        .option("maxFileAge", NO_MAXIMUM_AGE)
        .load(landing)
        .select("path", "length", "modificationTime")
    )


@dataclass
class Batches:
    """What the stream's batches did, and the first error one raised (re-raised by ``run``)."""

    results: list = field(default_factory=list)
    error: BaseException | None = None


def run(
    spark: SparkSession,
    warehouse: str,
    landing: str,
    apply: Callable[[list[str]], object],
    every_seconds: int | None = None,
    timeout_seconds: float | None = None,
) -> Batches:
    """Feeds the landing zone's new files to ``apply``, a batch at a time. With ``every_seconds``
    None, processes what has landed and stops (``availableNow``); otherwise checks every so many
    seconds until stopped (or ``timeout_seconds`` pass)."""
    batches = Batches()

    def each_batch(files: DataFrame, batch_id: int) -> None:
        paths = sorted(row["path"] for row in files.select("path").collect())
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
    try:
        query.awaitTermination(timeout_seconds)
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


def still_there(spark: SparkSession, path: str) -> bool:
    """Whether a file the stream listed still exists (a removed file has no rows to lose)."""
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(hadoop_path)
