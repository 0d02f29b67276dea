"""An update: new raw files -> bronze -> the silver, feature and score rows that depend on them.

Each step replaces exactly the rows it recomputes (Delta ``replaceWhere`` by household and time
range, one commit per table), computed from the same transforms as the batch stages, so any
sequence of updates leaves the tables a batch run over all the files would write:
- bronze: the files' rows, replaced by source file (``ingest``);
- silver/readings: per household, the grid slots strictly between the readings just before and
  just after what changed (``update.changes``), gridded from those readings;
- silver/daily: the days of those slots, aggregated again from silver/readings;
- gold/features: those days and the ``HISTORY_DEPENDENCE_DAYS`` after them, computed from their
  silver/daily rows and the stored features of the ``STORED_HISTORY_DAYS`` before them;
- gold/anomaly_scores and gold/anomalies: those days and the LSTM's ``HISTORY_DAYS`` after them,
  scored with the given model (no training in an update).

A step that fails leaves the tables of the steps before it written: running the update again
redoes every step from the ingest (each replaces what it wrote before), which is what the
streaming checkpoint does for a batch that did not finish.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from energy_anomaly import catalog, tables
from energy_anomaly.clean.daily import to_daily
from energy_anomaly.clean.dedupe import filter_on_grid, with_duplicates_resolved
from energy_anomaly.clean.grid import to_grid
from energy_anomaly.features.core import PROFILE_WINDOW, STORED_HISTORY_DAYS
from energy_anomaly.features.stage import read_bank_holidays, read_weather, with_calendar, with_continued_features
from energy_anomaly.ingest.stage import IngestResult, run_ingest
from energy_anomaly.models.inputs import HISTORY_DAYS
from energy_anomaly.periods import households_by_value, is_in
from energy_anomaly.scoring.stage import ScoreResult, score_and_replace
from energy_anomaly.session import cores, describe_jobs, tasks_for
from energy_anomaly.update.changes import (
    Span,
    changed_readings,
    days_within,
    neighbour_readings,
    slots_between,
    spans_frame,
    to_datetime,
    with_neighbours,
)

logger = logging.getLogger(__name__)
# Rows one features task holds in pandas at once (a day of the London shape, with its stored
# history, is ~510,000): bounds the Python worker's memory for an update of months.
FEATURE_ROWS_PER_TASK = 600_000
# A month that at most this many changed households reach is read for them alone. A list of
# every household (a new month for all of them) skips nothing and made the features step slower
# on the driver, so a month most households reach is read whole.
FEW_HOUSEHOLDS = 200
# The regrid's shuffle target per task: a month's drop (~100 MB shuffled) in 8 even tasks and files.
REGRID_PARTITION_BYTES = "16m"
# Splits per core of silver/daily's read of the regridded slots: smaller splits that the cores share.
READ_SPLITS_PER_CORE = 4


@dataclass(frozen=True)
class UpdateResult:
    ingest: IngestResult
    households: int  # households whose readings changed
    unknown_households: list[str]  # of those, the ones silver/households does not list
    first_day: dt.date | None
    last_day: dt.date | None
    slots: int
    days: int
    feature_days: int
    score: ScoreResult | None
    seconds: dict[str, float] = field(default_factory=dict)  # per step, in the order they ran


def run_update(
    spark: SparkSession,
    warehouse: str,
    files: list[str],
    bundle_path: str | Path,
    *,
    max_kwh_per_halfhour: float,
    plausible_days: tuple[dt.date, dt.date],
    max_gap_slots: int,
    bank_holidays: str,
    weather: str | None = None,
    flag_model: str = "ensemble",
) -> UpdateResult:
    """Ingests ``files`` and brings silver and gold up to date with what they changed."""
    seconds: dict[str, float] = {}
    timed = _timer(seconds, spark)
    bronze_path = tables.table_path(warehouse, catalog.BRONZE_READINGS)
    features_path = tables.table_path(warehouse, catalog.GOLD_FEATURES)
    if tables.table_exists(spark, features_path):  # refused before anything is ingested
        tables.require_current(spark.read.format("delta").load(features_path), catalog.GOLD_FEATURES, "features")
    with timed("ingest"):
        ensure_change_feed(spark, bronze_path)
        ingested = run_ingest(spark, warehouse, files, None, max_kwh_per_halfhour, plausible_days=plausible_days)
    with timed("changes"):
        version = ingested.readings_version  # the ingest's own bronze commit: its changes, no other's
        changed = [] if version is None else changed_readings(spark, bronze_path, version - 1, version).collect()
        if changed:
            silver_readings = tables.read_table_or_empty(spark, warehouse, catalog.SILVER_READINGS)
            silver_daily = tables.read_table_or_empty(spark, warehouse, catalog.SILVER_DAILY)
            spans = with_neighbours(spark, changed, silver_readings, silver_daily)
    if not changed:
        return UpdateResult(ingested, 0, [], None, None, 0, 0, 0, None, seconds)
    frame = spans_frame(spark, spans).cache()
    try:
        with timed("silver/readings"):
            slots = regrid(spark, warehouse, spans, frame, max_gap_slots)
        with timed("silver/daily"):
            days = redo_daily(spark, warehouse, spans, frame)
        with timed("gold/features"):
            feature_days = redo_features(spark, warehouse, spans, frame, bank_holidays, weather)
        with timed("scores"):
            score = rescore(spark, warehouse, spans, frame, bundle_path, flag_model)
    finally:
        frame.unpersist()
    return UpdateResult(
        ingest=ingested,
        households=len(spans),
        unknown_households=unknown_households(spark, warehouse, [s.household_id for s in spans]),
        first_day=min(s.days[0] for s in spans),
        last_day=max(s.days[1] for s in spans),
        slots=slots,
        days=days,
        feature_days=feature_days,
        score=score,
        seconds=seconds,
    )


def _timer(seconds: dict[str, float], spark: SparkSession):
    """Times each step, and names its Spark jobs after it (what the Spark UI lists)."""

    @contextmanager
    def timed(step: str):
        started = time.monotonic()
        describe_jobs(spark, f"update: {step}")
        try:
            yield
        finally:
            describe_jobs(spark, None)
            seconds[step] = time.monotonic() - started
            logger.info("update: %s in %.1f s", step, seconds[step])

    return timed


def ensure_change_feed(spark: SparkSession, bronze_path: str) -> None:
    """Bronze written by a version before updates existed has no change feed: it is switched on,
    and an update then sees the changes of every ingest from that commit on."""
    if tables.table_exists(spark, bronze_path) and not tables.has_change_data_feed(spark, bronze_path):
        logger.info("bronze/readings: turning on Delta's Change Data Feed")
        tables.set_property(spark, bronze_path, tables.CHANGE_DATA_FEED, "true")


def regrid(spark: SparkSession, warehouse: str, spans: list[Span], frame: DataFrame, max_gap_slots: int) -> int:
    """silver/readings between each household's neighbouring readings, gridded again."""
    bronze = tables.read_table(spark, warehouse, catalog.BRONZE_READINGS)
    lowest = to_datetime(min(s.first for s in spans))
    highest = to_datetime(max(s.last for s in spans))
    ts = F.unix_micros("ts")
    changed = (
        bronze.where(F.col("ts").between(F.lit(lowest), F.lit(highest)))  # lets Delta skip older files
        .join(F.broadcast(frame.select("household_id", "first", "last")), "household_id")
        .where(ts.between(F.col("first"), F.col("last")))
        .transform(filter_on_grid)
        .select("household_id", "ts", "kwh", F.lit(1).alias("n_source_rows"), F.lit(False).alias("has_conflict"))
    )
    between = (F.col("before").isNull() | (ts > F.col("before"))) & (F.col("after").isNull() | (ts < F.col("after")))
    grid = (
        # The neighbouring readings go in with the raw rows (they lie outside first..last, so none
        # is merged with one): one shuffle and one sort serve the deduplication and the grid.
        changed.unionByName(neighbour_readings(spark, spans))
        .transform(with_duplicates_resolved)
        .transform(to_grid, max_gap_slots)  # comes out sorted by (household_id, ts): no second sort
        .join(F.broadcast(frame.select("household_id", "before", "after")), "household_id")
        .where(between)
        .select(*catalog.SILVER_READINGS.schema.fieldNames())
    )
    # A month's regrid shuffles ~100 MB: at AQE's default 64 MB target that became 3 uneven tasks
    # on 2 cores, and 3 files of which silver/daily's read then packed two into one task.
    with tables.session_conf(spark, "spark.sql.adaptive.advisoryPartitionSizeInBytes", REGRID_PARTITION_BYTES):
        return _replace(spark, grid, warehouse, catalog.SILVER_READINGS, slots_between(spans))


def redo_daily(spark: SparkSession, warehouse: str, spans: list[Span], frame: DataFrame) -> int:
    """silver/daily for the days of the regridded slots, from silver/readings as it now is."""
    days = _rows_in(tables.read_table(spark, warehouse, catalog.SILVER_READINGS), frame, "first_day", "last_day", spans)
    daily = days.transform(to_daily).sortWithinPartitions("household_id", "day")
    # What this reads is mostly the regrid's few files. Spark packs small files into as many
    # splits as cores, counting each with a 4 MB open cost: a month's drop that reached two month
    # partitions (16 files) read 8.0M rows in one task and 0.8M in the other.
    splits = str(READ_SPLITS_PER_CORE * cores(spark))
    with tables.session_conf(spark, "spark.sql.files.minPartitionNum", splits):
        return _replace(spark, daily, warehouse, catalog.SILVER_DAILY, days_within(spans, lambda s: s.days))


def redo_features(
    spark: SparkSession, warehouse: str, spans: list[Span], frame: DataFrame, bank_holidays: str, weather: str | None
) -> int:
    """gold/features for the days that depend on the new silver/daily days: each household's from
    its silver/daily rows of those days and its stored features of the ``STORED_HISTORY_DAYS``
    before them (unchanged: they lie before every changed day)."""
    days = _rows_in(
        tables.read_table(spark, warehouse, catalog.SILVER_DAILY), frame, "first_feature_day", "last_feature_day", spans
    )
    stored = tables.read_table_or_empty(spark, warehouse, catalog.GOLD_FEATURES)  # none before the first update

    def stored_days(table: DataFrame, days: int) -> DataFrame:
        return _rows_in(
            table,
            frame,
            "first_feature_day",
            "first_feature_day",
            spans,
            history_days=days,
            last_exclusive=True,
            keep_first=True,
        )

    # Only the last PROFILE_WINDOW days' profiles enter a mean profile: the days before those are
    # read without theirs (48 values a row, most of what the history weighs).
    recent = stored_days(stored, PROFILE_WINDOW)
    no_profile = F.lit(None).cast(catalog.GOLD_FEATURES.schema["profile"].dataType)
    older = stored_days(stored.withColumn("profile", no_profile), STORED_HISTORY_DAYS).where(
        F.col("day") < F.date_sub(F.col("_first"), PROFILE_WINDOW)
    )
    history = recent.unionByName(older).drop("_first")
    features = (
        with_continued_features(days, history, tasks_for(spark, _feature_rows(spans), FEATURE_ROWS_PER_TASK))
        .transform(with_calendar, read_bank_holidays(spark, bank_holidays), weather and read_weather(spark, weather))
        .select(*catalog.GOLD_FEATURES.schema.fieldNames())
        .sortWithinPartitions("household_id", "day")
    )
    return _replace(spark, features, warehouse, catalog.GOLD_FEATURES, days_within(spans, lambda s: s.feature_days))


def rescore(
    spark: SparkSession, warehouse: str, spans: list[Span], frame: DataFrame, bundle_path, flag_model: str
) -> ScoreResult:
    """The scores of the days whose features (or the features of the days before them) changed."""
    context = _rows_in(
        tables.read_table(spark, warehouse, catalog.GOLD_FEATURES),
        frame,
        "first_score_day",
        "last_score_day",
        spans,
        history_days=HISTORY_DAYS,
    )
    return score_and_replace(
        spark,
        warehouse,
        bundle_path,
        context,
        start=min(s.score_days[0] for s in spans),
        end=max(s.score_days[1] for s in spans),
        replaced=days_within(spans, lambda s: s.score_days),
        flag_model=flag_model,
        rows=_score_rows(spans),
    )


def _rows_in(
    table: DataFrame,
    frame: DataFrame,
    first: str,
    last: str,
    spans: list[Span],
    history_days: int = 0,
    last_exclusive: bool = False,
    keep_first: bool = False,
) -> DataFrame:
    """Each household's rows from ``history_days`` before its ``first`` day to its ``last`` day
    (columns of ``spans_frame``; before ``last`` if ``last_exclusive``); its ``first`` day as
    ``_first`` if ``keep_first``."""
    reach = {
        s.household_id: (a - dt.timedelta(days=history_days), b if last != first else a)
        for s in spans
        for a, b in [_day_range(s, first)]
    }
    lowest, highest = min(a for a, _ in reach.values()), max(b for _, b in reach.values())
    bounds = frame.select("household_id", F.col(first).alias("_first"), F.col(last).alias("_last"))
    until = F.col("day") < F.col("_last") if last_exclusive else F.col("day") <= F.col("_last")
    return (
        # Static bounds first: Delta prunes months and skips files by their statistics.
        _months_read(table, reach)
        .where(F.col("day").between(F.lit(lowest), F.lit(highest)))
        .join(F.broadcast(bounds), "household_id")
        .where((F.col("day") >= F.date_sub("_first", history_days)) & until)
        .drop("_last", *([] if keep_first else ["_first"]))
    )


def _months_read(table: DataFrame, reach: dict[str, tuple[dt.date, dt.date]]) -> DataFrame:
    """The ``month`` partitions the households' day ranges reach. A month that at most
    ``FEW_HOUSEHOLDS`` of them reach (a corrected old day, a household whose readings stopped
    early) is read for those households only: files are sorted by household within a month, so
    Delta skips the other households' files by their statistics. Such a month is a scan of its
    own: a condition that mixes the partition column into an ``OR`` skips no file at all."""
    months: dict[dt.date, list[str]] = {}
    for household, (a, b) in reach.items():
        month = a.replace(day=1)
        while month <= b:
            months.setdefault(month, []).append(household)
            month = (month + dt.timedelta(days=31)).replace(day=1)
    whole = sorted(month for month, ids in months.items() if len(ids) > FEW_HOUSEHOLDS)
    scans = [table.where(F.col("month").isin(whole))] if whole else []
    few = households_by_value({month: tuple(ids) for month, ids in months.items() if month not in whole})
    scans += [
        table.where(F.col("month").isin(sorted(group)) & is_in("household_id", list(ids))) for ids, group in few.items()
    ]
    return reduce(DataFrame.unionByName, scans)


def _feature_rows(spans: list[Span]) -> int:
    """About how many rows the features' pandas step holds: each household's feature days up to
    the latest day that changed, with its stored history."""
    latest = max(s.days[1] for s in spans)
    return sum((min(s.feature_days[1], latest) - s.feature_days[0]).days + 1 + STORED_HISTORY_DAYS for s in spans)


def _score_rows(spans: list[Span]) -> int:
    """About how many feature rows the scores read: each household's score days with the LSTM's
    history, up to the latest day that changed (a day beyond it counts only if it has data)."""
    latest = max(s.days[1] for s in spans)
    return sum((min(s.score_days[1], latest) - s.score_days[0]).days + 1 + HISTORY_DAYS for s in spans)


def _day_range(span: Span, first: str) -> tuple[dt.date, dt.date]:
    """The span's days for a pair of ``spans_frame`` columns (``first_day``/``last_day``, ...)."""
    return {"first_day": span.days, "first_feature_day": span.feature_days, "first_score_day": span.score_days}[first]


def _replace(spark: SparkSession, rows: DataFrame, warehouse: str, table, condition) -> int:
    """``rows`` in place of the rows ``condition`` selects; returns how many were written. The rows
    lie within it by construction (filtered on the same per-household ranges), so Delta's per-row
    check is off: it evaluates the condition's list of every household linearly for each row."""
    return tables.replace_counted(rows, warehouse, table, condition, rows_match_by_construction=True).rows


def unknown_households(spark: SparkSession, warehouse: str, households: list[str]) -> list[str]:
    """Households with readings that silver/households does not list (no tariff or ACORN group yet)."""
    known = tables.read_table_or_empty(spark, warehouse, catalog.SILVER_HOUSEHOLDS)
    listed = {
        r["household_id"] for r in known.where(is_in("household_id", households)).select("household_id").collect()
    }
    return sorted(set(households) - listed)
