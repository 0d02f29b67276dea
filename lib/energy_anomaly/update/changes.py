"""What an ingest changed, and which silver and gold rows depend on it.

Bronze's Change Data Feed lists the readings an ingest inserted and deleted (a re-sent file's
earlier rows are deleted and its new rows inserted). Per household they span ``first`` .. ``last``.
The grid between two readings depends on those two readings only (``clean.grid``), so the slots
whose values can change are those strictly between ``before`` (the household's last reading before
``first``, from silver) and ``after`` (its first reading after ``last``); the readings at ``before``
and ``after`` keep their own rows. From there every later table's dependence is a bounded number of
days (features: ``HISTORY_DEPENDENCE_DAYS``; scores: the LSTM's ``HISTORY_DAYS`` of features), so
``Span`` says for each table which rows to recompute and which to read for it.

Timestamps travel between Spark and the driver as microseconds since the epoch: a ``datetime``
collected by PySpark is in the machine's local zone, and an hour repeated at a DST change would
not come back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from energy_anomaly.clean.dedupe import SECONDS_PER_SLOT, is_on_grid
from energy_anomaly.features.core import HISTORY_DEPENDENCE_DAYS
from energy_anomaly.models.inputs import HISTORY_DAYS
from energy_anomaly.periods import household_days, households_by_value, is_in, within_months

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
SLOT = dt.timedelta(seconds=SECONDS_PER_SLOT)
# Where the reading before a change is looked for first (most households read every half-hour);
# households with a longer gap are looked up in silver/daily.
NEAR_DAYS = 2


def to_datetime(micros: int) -> dt.datetime:
    """Microseconds since the epoch -> an aware UTC datetime (PySpark turns it into that exact instant)."""
    return EPOCH + dt.timedelta(microseconds=micros)


# A silver reading as the regrid needs it: (ts in microseconds, kwh, n_source_rows, has_conflict).
Reading = tuple[int, float, int, bool]


@dataclass(frozen=True)
class Span:
    """One household's change: readings changed from ``first`` to ``last`` (microseconds), with its
    readings just before and after them (None: there is none)."""

    household_id: str
    first: int
    last: int
    previous: Reading | None
    next: Reading | None

    @property
    def before(self) -> int | None:
        return None if self.previous is None else self.previous[0]

    @property
    def after(self) -> int | None:
        return None if self.next is None else self.next[0]

    @property
    def days(self) -> tuple[dt.date, dt.date]:
        """The days whose grid slots lie strictly between ``before`` and ``after``: silver/daily's rows to redo."""
        first = to_datetime(self.before) + SLOT if self.before is not None else to_datetime(self.first)
        last = to_datetime(self.after) - SLOT if self.after is not None else to_datetime(self.last)
        return first.date(), max(first.date(), last.date())

    @property
    def feature_days(self) -> tuple[dt.date, dt.date]:
        first, last = self.days
        return first, last + dt.timedelta(days=HISTORY_DEPENDENCE_DAYS)

    @property
    def score_days(self) -> tuple[dt.date, dt.date]:
        first, last = self.feature_days
        return first, last + dt.timedelta(days=HISTORY_DAYS)


def changed_readings(spark: SparkSession, bronze_path: str, after_version: int | None, to_version: int) -> DataFrame:
    """(household_id, first, last) in microseconds: the on-grid readings bronze commits
    ``after_version`` (exclusive; None: from the table's creation) .. ``to_version`` inserted or deleted."""
    start = 0 if after_version is None else after_version + 1
    changes = (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", start)
        .option("endingVersion", to_version)
        .load(bronze_path)
    )
    return (
        changes.where(F.col("_change_type").isin("insert", "delete") & is_on_grid(F.col("ts")))
        .groupBy("household_id")
        .agg(F.unix_micros(F.min("ts")).alias("first"), F.unix_micros(F.max("ts")).alias("last"))
    )


def with_neighbours(
    spark: SparkSession, changed: list, silver_readings: DataFrame, silver_daily: DataFrame
) -> list[Span]:
    """Each household's change with its silver readings just before and after it."""
    if not changed:
        return []
    ids = [row["household_id"] for row in changed]
    lowest = to_datetime(min(row["first"] for row in changed))
    highest = to_datetime(max(row["last"] for row in changed))
    spans = spark.createDataFrame(
        [(row["household_id"], row["first"], row["last"]) for row in changed],
        "household_id STRING, first BIGINT, last BIGINT",
    )
    observed = silver_readings.where((F.col("n_source_rows") > 0) & is_in("household_id", ids))
    near = observed.where(
        F.col("ts").between(F.lit(lowest - dt.timedelta(days=NEAR_DAYS)), F.lit(highest + dt.timedelta(days=NEAR_DAYS)))
    )
    found = {
        row["household_id"]: [_reading(row["before"]), _reading(row["after"])]
        for row in _neighbours(near, spans).collect()
    }
    far_before = [r for r in changed if found.get(r["household_id"], [None])[0] is None]
    far_after = [r for r in changed if found.get(r["household_id"], [None, None])[1] is None]
    for household, reading in _far(silver_readings, silver_daily, far_before, before=True).items():
        found.setdefault(household, [None, None])[0] = reading
    for household, reading in _far(silver_readings, silver_daily, far_after, before=False).items():
        found.setdefault(household, [None, None])[1] = reading
    return [
        Span(r["household_id"], r["first"], r["last"], *found.get(r["household_id"], [None, None])) for r in changed
    ]


def _as_reading() -> Column:
    return F.struct(F.unix_micros("ts").alias("ts"), "kwh", "n_source_rows", "has_conflict")


def _reading(row) -> Reading | None:
    return None if row is None else (row["ts"], row["kwh"], row["n_source_rows"], row["has_conflict"])


def _neighbours(observed: DataFrame, spans: DataFrame) -> DataFrame:
    """Per household, its last reading before the change and its first after it (max_by and
    min_by skip the rows whose ordering value is null: those on the other side)."""
    ts = F.unix_micros("ts")
    joined = observed.join(F.broadcast(spans), "household_id")
    return joined.groupBy("household_id").agg(
        F.max_by(_as_reading(), F.when(ts < F.col("first"), ts)).alias("before"),
        F.min_by(_as_reading(), F.when(ts > F.col("last"), ts)).alias("after"),
    )


def _far(silver_readings: DataFrame, silver_daily: DataFrame, changed: list, before: bool) -> dict[str, Reading]:
    """The neighbouring reading of households with none within ``NEAR_DAYS`` of their change: the
    nearest day with readings beyond that from silver/daily (one row per day), then that day's readings."""
    if not changed:
        return {}
    near = dt.timedelta(days=NEAR_DAYS)
    edge = {
        r["household_id"]: (to_datetime(r["first"]).date() - near) if before else (to_datetime(r["last"]).date() + near)
        for r in changed
    }
    # The outermost edge as a plain bound too: Delta skips silver/daily's files by their day range
    # (a new day's households have nothing after it, and no file is read to find that out).
    beyond = F.col("day") <= max(edge.values()) if before else F.col("day") >= min(edge.values())
    days = silver_daily.where(beyond & is_in("household_id", list(edge)) & (F.col("n_observed") > 0))
    side = [
        is_in("household_id", ids) & ((F.col("day") <= day) if before else (F.col("day") >= day))
        for day, ids in households_by_value(edge).items()
    ]
    nearest = (
        days.where(reduce(Column.__or__, side))
        .groupBy("household_id")
        .agg((F.max("day") if before else F.min("day")).alias("day"))
        .collect()
    )
    if not nearest:
        return {}
    wanted = reduce(
        Column.__or__,
        [
            is_in("household_id", ids) & (F.col("day") == day)
            for day, ids in households_by_value({r[0]: r[1] for r in nearest}).items()
        ],
    )
    rows = (
        silver_readings.where(wanted & (F.col("n_source_rows") > 0))
        .groupBy("household_id")
        .agg((F.max(_as_reading()) if before else F.min(_as_reading())).alias("reading"))
        .collect()
    )
    # The day's readings all lie beyond NEAR_DAYS of the change: its last (first) one is the neighbour.
    return {row["household_id"]: _reading(row["reading"]) for row in rows}


# --- conditions: which rows an update replaces, as Columns of literal values -------------------
def slots_between(spans: list[Span]) -> Column:
    """silver/readings rows strictly between each household's ``before`` and ``after`` readings."""
    groups = households_by_value({s.household_id: (s.before, s.after) for s in spans})
    parts = []
    for (before, after), ids in groups.items():
        part = is_in("household_id", ids)
        if before is not None:
            part &= F.col("ts") > F.lit(to_datetime(before))
        if after is not None:
            part &= F.col("ts") < F.lit(to_datetime(after))
        parts.append(part)
    first, last = min(s.days[0] for s in spans), max(s.days[1] for s in spans)
    return within_months(first, last) & reduce(Column.__or__, parts)


def days_within(spans: list[Span], days_of) -> Column:
    """Rows whose household-day lies in ``days_of(span)`` (both ends included)."""
    return household_days({s.household_id: days_of(s) for s in spans})


def spans_frame(spark: SparkSession, spans: list[Span]) -> DataFrame:
    """The spans as a small frame to join with: timestamps and the day ranges of every table."""
    schema = T.StructType(
        [
            T.StructField("household_id", T.StringType(), False),
            T.StructField("first", T.LongType(), False),
            T.StructField("last", T.LongType(), False),
            T.StructField("before", T.LongType(), True),
            T.StructField("after", T.LongType(), True),
            *[T.StructField(name, T.DateType(), False) for name in RANGE_COLUMNS],
        ]
    )
    rows = [
        (s.household_id, s.first, s.last, s.before, s.after, *s.days, *s.feature_days, *s.score_days) for s in spans
    ]
    return spark.createDataFrame(rows, schema)


RANGE_COLUMNS = ("first_day", "last_day", "first_feature_day", "last_feature_day", "first_score_day", "last_score_day")


def neighbour_readings(spark: SparkSession, spans: list[Span]) -> DataFrame:
    """The readings just before and after each change, as deduplicated readings (the grid's input)."""
    rows = [(s.household_id, *reading) for s in spans for reading in (s.previous, s.next) if reading is not None]
    frame = spark.createDataFrame(
        rows, "household_id STRING, micros BIGINT, kwh DOUBLE, n_source_rows INT, has_conflict BOOLEAN"
    )
    return frame.select(
        "household_id", F.timestamp_micros("micros").alias("ts"), "kwh", "n_source_rows", "has_conflict"
    )
