"""Periods of days: the one filter every stage uses for ``start``..``end`` (both included)."""

from __future__ import annotations

import datetime as dt
from functools import reduce

from pyspark import SparkContext
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.classic.column import Column as ClassicColumn


def in_period(start: dt.date, end: dt.date, day: Column | None = None) -> Column:
    """``day`` (the ``day`` column unless given, e.g. ``F.to_date("ts")``) within start..end."""
    return (F.col("day") if day is None else day).between(F.lit(start), F.lit(end))


def filter_period(df: DataFrame, start: dt.date, end: dt.date, day: Column | None = None) -> DataFrame:
    return df.where(in_period(start, end, day))


def month_of(day: str) -> Column:
    """The partition of a day's rows in silver and gold: the first day of its month."""
    return F.trunc(F.col(day), "month")


# Not a character of any household id or file name: the values of ``is_in`` travel joined by it,
# from this many on (fewer cost little either way).
_SEPARATOR = "\x1f"
_JOINED_FROM = 50


def is_in(column: str, values: list[str]) -> Column:
    """``F.col(column).isin(values)`` for thousands of values. PySpark's classic ``isin`` makes a JVM
    call per value (seconds for a day's 5,550 households, for every condition); here the values
    cross once, joined, and are split back into the same ``In`` in the JVM. The values stay values:
    no SQL text is formed."""
    values = [str(v) for v in values]
    col = F.col(column)
    joinable = all(v and _SEPARATOR not in v for v in values)  # splitting drops empty values
    if len(values) < _JOINED_FROM or not joinable or not isinstance(col, ClassicColumn):
        return col.isin(values)  # Spark Connect builds the expression client-side, without calls
    jvm = SparkContext._jvm
    pattern = jvm.java.util.regex.Pattern.compile(_SEPARATOR, jvm.java.util.regex.Pattern.LITERAL)
    split = pattern.splitAsStream(_SEPARATOR.join(values)).toList()
    return ClassicColumn(col._jc.isInCollection(split))


def households_by_value(value_by_household: dict) -> dict:
    """value -> the households that have it: one ``isin`` per distinct range in a condition."""
    groups: dict = {}
    for household, value in value_by_household.items():
        groups.setdefault(value, []).append(household)
    return groups


def within_months(first: dt.date, last: dt.date) -> Column:
    """Rows of the months from ``first``'s to ``last``'s, on the ``month`` partition column: put
    first in a condition, Delta prunes months with it before it reads file statistics."""
    return F.col("month").between(F.lit(first.replace(day=1)), F.lit(last.replace(day=1)))


def household_days(ranges: dict[str, tuple[dt.date, dt.date]]) -> Column:
    """Rows whose ``day`` lies in their household's range (both ends included), as one Column of
    literal values: households with the same range share one ``isin``, within the months the
    ranges span."""
    groups = households_by_value({household: tuple(days) for household, days in ranges.items()})
    parts = [is_in("household_id", ids) & in_period(a, b) for (a, b), ids in groups.items()]
    first, last = min(a for a, _ in groups), max(b for _, b in groups)
    return within_months(first, last) & reduce(Column.__or__, parts)
