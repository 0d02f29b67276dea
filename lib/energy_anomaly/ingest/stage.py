"""The ingest stage: raw LCL files -> ``bronze/readings`` + ``bronze/quarantine`` (+ ``silver/households``).

Idempotent by source file: a run replaces exactly the rows that earlier runs took from the same
files (Delta ``replaceWhere`` on ``source_file``), so re-ingesting a file never duplicates it.
Every data line of every file ends in exactly one of the two bronze tables.

The files are read once: the readings write also collects the rejected lines (an observation with
a bounded heap, ``min_by(..., k)``). Rejects are rare in real meter data (8,632 in 168M generated
London-shape rows), so the quarantine is written from what that pass collected. Only when a run
has more rejects than ``REJECTS_COLLECTED_IN_PASS`` are the files with rejects read a second time.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import reduce
from urllib.parse import urlsplit

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from energy_anomaly import catalog, tables
from energy_anomaly.errors import EnergyAnomalyError, InputFileError
from energy_anomaly.ingest.households import parse_household_lines, select_households
from energy_anomaly.ingest.layouts import HOUSEHOLDS
from energy_anomaly.ingest.parse import (
    EARLIEST_DAY,
    LATEST_DAY,
    is_data_line,
    is_rejected,
    parse_reading_lines,
    quarantine_columns,
    select_quarantine,
    select_readings,
)
from energy_anomaly.ingest.sources import SourceFile, discover, glob_escaped, group_by_layout
from energy_anomaly.periods import is_in
from energy_anomaly.session import MAX_PARTITION_BYTES, split_bytes

logger = logging.getLogger(__name__)

# Rejected lines the readings pass keeps for bronze/quarantine; more than this, and the files
# with rejects are parsed again instead (a bounded heap per task: at most this many raw lines).
REJECTS_COLLECTED_IN_PASS = 50_000
# source_file holds one value per input file, stored as a single dictionary run per Parquet page:
# its min/max per file would filter nothing Delta's file list does not, and Parquet computes it by
# comparing that long string on every row.
NO_SOURCE_FILE_PARQUET_STATS = ("parquet.column.statistics.enabled#source_file", "false")
PLAUSIBLE_DAYS = (EARLIEST_DAY, LATEST_DAY)
READ_FAILURE = re.compile(r"(?:Encountered error while reading file|reading file)\s+(\S+?)\.?\s", re.IGNORECASE)


@dataclass(frozen=True)
class IngestResult:
    files: int
    lines_read: int  # data lines of the reading files, counted while they were parsed
    readings: int
    quarantined: int
    households: int | None
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    readings_version: int | None = None  # bronze/readings' commit of this ingest; None: it made none

    @property
    def rows_read(self) -> int:
        """Data rows of every input file, household information included."""
        return self.readings + self.quarantined


def read_lines(spark: SparkSession, paths: list[str]) -> DataFrame:
    """Raw lines with the file each came from; gzip is decompressed by extension. Each path is
    read as that one file (glob characters escaped), never as a pattern."""
    return spark.read.text([glob_escaped(p) for p in paths]).select(
        F.col("value").alias("raw_line"), F.col("_metadata.file_path").alias("source_file")
    )


def from_files(uris: list[str]) -> Column:
    """Rows taken from these files: a Column over literal values, so no file name is read as SQL."""
    return is_in("source_file", list(uris))


@contextmanager
def read_errors_named():
    """A file that fails while rows are read (truncated gzip, bad encoding) -> InputFileError."""
    try:
        yield
    except (Py4JJavaError, PySparkException) as exc:
        text = str(exc)
        match = READ_FAILURE.search(text)
        if match is None:
            raise
        cause = next(
            (line.strip() for line in text.splitlines() if "EOFException" in line or "ZipException" in line), ""
        )
        reason = "truncated or corrupt compressed file" if cause else "unreadable file"
        raise InputFileError(match.group(1), f"{reason} ({cause or text.splitlines()[0][:120]})") from exc


def _split_sources(sources: list[SourceFile]) -> list[SourceFile]:
    for source in sources:
        if source.layout is HOUSEHOLDS:
            raise InputFileError(source.path, "household information file given as --input; pass it as --households")
    return sources


def _households_sources(sources: list[SourceFile]) -> list[SourceFile]:
    for source in sources:
        if source.layout is not HOUSEHOLDS:
            raise InputFileError(source.path, f"expected household information, found the {source.layout.name} layout")
    return sources


def parse_sources(
    spark: SparkSession,
    sources: list[SourceFile],
    max_kwh_per_halfhour: float,
    observation: Observation | None = None,
    max_rejects: int = 0,
    plausible_days: tuple[dt.date, dt.date] = PLAUSIBLE_DAYS,
) -> DataFrame:
    """Every line of the reading files, typed, with its ``reason`` (null = a good reading), counted
    in ``observation`` (see ``observe_lines``).

    The observation is also the barrier that keeps later filters on ``reason`` above the parse,
    so each line is split and cast once (``parse.parse_reading_lines``): callers that need no
    counts get a throwaway one.
    """
    parsed = reduce(
        DataFrame.unionByName,
        [
            parse_reading_lines(read_lines(spark, paths), layout, max_kwh_per_halfhour, *plausible_days)
            for layout, paths in group_by_layout(sources).items()
        ],
    )
    return observe_lines(parsed, observation or Observation(), max_rejects)


def check_file_naming(spark: SparkSession, sources: list[SourceFile]) -> None:
    """Spark names rows' files as the replaceWhere predicates do, checked on one file before anything
    is written (one needing URL encoding, where there is one). The bronze writes skip Delta's
    per-row predicate check: a file named two ways would make re-runs add its rows again."""
    source = next((s for s in sources if s.uri != s.path), sources[0])
    reported = read_lines(spark, [source.path]).select("source_file").first()
    if reported is not None and reported["source_file"] != source.uri:
        raise EnergyAnomalyError(
            f"{source.path}: Spark reports this file as {reported['source_file']!r}, not {source.uri!r}; "
            "nothing written (a re-run could not replace its rows)"
        )


def observe_lines(parsed: DataFrame, observation: Observation, max_rejects: int) -> DataFrame:
    """Counts data lines (header lines aside) and rejects, names the files with rejects and keeps
    up to ``max_rejects`` of the rejected lines as quarantine rows, during the readings write."""
    rejected = is_rejected()
    metrics = [
        F.count_if(is_data_line()).alias("lines"),
        F.count_if(rejected).alias("rejected"),
        F.array_sort(F.collect_set(F.when(rejected, F.col("source_file")))).alias("files_with_rejects"),
    ]
    if max_rejects > 0:
        # min_by ignores rows whose ordering key is null: only rejected lines enter the heap. The
        # row itself is built for rejected lines only, not copied for every reading.
        quarantine_row = F.when(rejected, F.struct(*quarantine_columns()))
        metrics.append(F.min_by(quarantine_row, F.when(rejected, F.lit(0)), max_rejects).alias("rejects"))
    return parsed.observe(observation, *metrics)


def collected_quarantine(spark: SparkSession, seen: dict, max_rejects: int) -> DataFrame | None:
    """The quarantine rows the readings pass collected, or None if it could not keep them all."""
    if seen["rejected"] > max_rejects:
        return None
    rows = [tuple(row) for row in seen.get("rejects") or []]
    return spark.createDataFrame(rows, catalog.BRONZE_QUARANTINE.schema)


def replace_bronze_readings(
    readings: DataFrame, warehouse: str, source_files: list[str], max_kwh_per_halfhour: float
) -> tables.Written:
    """Writes ``readings`` to bronze/readings in place of the rows earlier runs took from
    ``source_files``: statistics on household_id only, no Parquet min/max on source_file, and no
    per-row predicate check (each row carries the file it came from: ``check_file_naming``).
    The table's CHECK constraints include the ingest bound, brought up to the config's first."""
    spark = readings.sparkSession
    table = catalog.bronze_readings(max_kwh_per_halfhour)
    path = tables.table_path(warehouse, table)
    if tables.table_exists(spark, path):
        tables.ensure_checks(spark, path, table)
    with tables.session_conf(spark, *NO_SOURCE_FILE_PARQUET_STATS):
        return tables.replace_counted(
            readings,
            warehouse,
            table,
            from_files(source_files),
            rows_match_by_construction=True,
        )


def run_ingest(
    spark: SparkSession,
    warehouse: str,
    inputs: list[str],
    households: list[str] | None,
    max_kwh_per_halfhour: float,
    max_rejects_in_pass: int = REJECTS_COLLECTED_IN_PASS,
    plausible_days: tuple[dt.date, dt.date] = PLAUSIBLE_DAYS,
) -> IngestResult:
    """One pass over the reading files writes bronze/readings and collects the rejected lines for
    bronze/quarantine; files with rejects are read again only when there are too many to collect.
    A file with no data lines, or only rejected ones, is data like any other: it replaces what
    earlier runs took from it (with nothing, or with quarantine rows)."""
    reading_sources = _split_sources(discover(spark, inputs)) if inputs else []
    household_sources = _households_sources(discover(spark, households)) if households else []
    if not reading_sources and not household_sources:
        raise InputFileError("--input", "no input files given")
    for layout, paths in group_by_layout(reading_sources).items():
        logger.info("ingest: %d file(s) in the %s layout", len(paths), layout.name)
    # Rows name their file as Spark reports it (``_metadata.file_path``): the conditions that
    # make re-runs replace exactly those rows use the same form.
    reading_files = [s.uri for s in reading_sources]
    all_files = reading_files + [s.uri for s in household_sources]

    lines = Observation("ingest_lines")
    seen = {"lines": 0, "rejected": 0}
    bronze_written = None
    with read_errors_named():
        check_file_naming(spark, reading_sources + household_sources)
        quarantine = spark.createDataFrame([], catalog.BRONZE_QUARANTINE.schema)
        if reading_sources:
            parsed = parse_sources(
                spark, reading_sources, max_kwh_per_halfhour, lines, max_rejects_in_pass, plausible_days
            )
            check_files_read(parsed, reading_files)
            splits = str(split_bytes(spark, sum(s.size for s in reading_sources)))
            with tables.session_conf(spark, MAX_PARTITION_BYTES, splits):
                bronze_written = replace_bronze_readings(
                    select_readings(parsed), warehouse, reading_files, max_kwh_per_halfhour
                )
            seen = lines.get
            quarantine = collected_quarantine(spark, seen, max_rejects_in_pass)
            if quarantine is None:
                quarantine = reparse_rejects(
                    spark, reading_sources, seen, max_kwh_per_halfhour, max_rejects_in_pass, plausible_days
                )
        n_households = None
        if household_sources:
            parsed_households = parse_household_lines(read_lines(spark, [s.path for s in household_sources]))
            quarantine = quarantine.unionByName(select_quarantine(parsed_households))
            households_path = tables.overwrite(
                select_households(parsed_households), warehouse, catalog.SILVER_HOUSEHOLDS
            )
            n_households = tables.rows_written(spark, households_path)
        has_rejects = seen["rejected"] > 0 or bool(household_sources)
        quarantine_path = write_quarantine(spark, quarantine if has_rejects else None, warehouse, all_files)

    readings = bronze_written.rows if bronze_written else 0
    reasons, rejected = quarantined_counts(spark, quarantine_path, all_files, reading_files)
    if readings + rejected != seen["lines"] or rejected != seen["rejected"]:
        raise EnergyAnomalyError(
            f"ingest lost rows: {seen['lines']} lines parsed, {seen['rejected']} rejected; "
            f"written {readings} readings + {rejected} quarantined"
        )
    return IngestResult(
        files=len(all_files),
        lines_read=seen["lines"],
        readings=readings,
        quarantined=sum(reasons.values()),
        households=n_households,
        quarantine_reasons=reasons,
        readings_version=bronze_written.version if bronze_written else None,
    )


def check_files_read(lines_df: DataFrame, files_given: list[str]) -> None:
    """Lines may only come from the files discovered: a path Spark read as a pattern would bring
    in other files' lines and count them on both sides of the accounting. Checked on the plan's
    file listing before anything is written (no per-line set of file names). The listing writes a
    local file's URI with an empty authority (``file:///x``), the rows without (``file:/x``)."""

    def location(uri: str) -> tuple[str, str, str]:
        parts = urlsplit(uri)
        return parts.scheme, parts.netloc, parts.path

    given = {location(uri) for uri in files_given}
    unexpected = sorted(uri for uri in lines_df.inputFiles() if location(uri) not in given)
    if unexpected:
        raise EnergyAnomalyError(f"ingest read {len(unexpected)} file(s) it was not given, e.g. {unexpected[0]}")


def reparse_rejects(
    spark: SparkSession,
    sources: list[SourceFile],
    seen: dict,
    max_kwh: float,
    max_rejects: int,
    plausible_days: tuple[dt.date, dt.date],
) -> DataFrame:
    """The quarantine rows of the files with rejects, read again: more rejects than one pass keeps."""
    files_with_rejects = set(seen["files_with_rejects"])
    with_rejects = [s for s in sources if s.uri in files_with_rejects]
    logger.info(
        "ingest: %d rejected lines, more than the %d collected in one pass: reading %d file(s) again",
        seen["rejected"],
        max_rejects,
        len(with_rejects),
    )
    return select_quarantine(parse_sources(spark, with_rejects, max_kwh, plausible_days=plausible_days))


def write_quarantine(spark: SparkSession, quarantine: DataFrame | None, warehouse: str, files: list[str]) -> str:
    """bronze/quarantine's rows from ``files`` replaced by ``quarantine``; with none, earlier runs'
    rejects from the same files are deleted without a write job."""
    if quarantine is None:
        return tables.delete_where(spark, warehouse, catalog.BRONZE_QUARANTINE, from_files(files))
    # Few rows: Delta's per-row condition check stays on here.
    return tables.replace_where(quarantine, warehouse, catalog.BRONZE_QUARANTINE, from_files(files))


def quarantined_counts(
    spark: SparkSession, path: str, all_files: list[str], reading_files: list[str]
) -> tuple[dict[str, int], int]:
    """Rows bronze/quarantine now holds from this run's files: per reason, and how many came from
    the reading files (household information rejects are accounted for separately)."""
    written = (
        spark.read.format("delta")
        .load(path)
        .where(from_files(all_files))
        .groupBy("reason", from_files(reading_files).alias("from_readings"))
        .agg(F.count(F.lit(1)).alias("n"))
        .collect()
    )
    reasons: dict[str, int] = {}
    for row in written:
        reasons[row["reason"]] = reasons.get(row["reason"], 0) + row["n"]
    return reasons, sum(row["n"] for row in written if row["from_readings"])
