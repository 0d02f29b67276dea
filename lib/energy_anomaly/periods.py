"""Periods of days: the one filter every stage uses for ``start``..``end`` (both included)."""

from __future__ import annotations

import datetime as dt
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def in_period(start: dt.date, end: dt.date, day: Column | None = None) -> Column:
    """``day`` (the ``day`` column unless given, e.g. ``F.to_date("ts")``) within start..end."""
    return (F.col("day") if day is None else day).between(F.lit(start), F.lit(end))


def filter_period(df: DataFrame, start: dt.date, end: dt.date, day: Column | None = None) -> DataFrame:
    return df.where(in_period(start, end, day))


def month_of(day: str) -> Column:
    """The partition of a day's rows in silver and gold: the first day of its month."""
    return F.trunc(F.col(day), "month")


def household_days(ranges: dict[str, tuple[dt.date, dt.date]]) -> Column:
    """Rows whose ``day`` lies in their household's range (both ends included), as one Column of
    literal values: households with the same range share one ``isin``, and a condition on the
    ``month`` partition column comes first so Delta prunes months before it reads statistics."""
    groups: dict[tuple[dt.date, dt.date], list[str]] = {}
    for household, days in ranges.items():
        groups.setdefault(tuple(days), []).append(household)
    first = min(a for a, _ in groups).replace(day=1)
    last = max(b for _, b in groups).replace(day=1)
    parts = [F.col("household_id").isin(ids) & in_period(a, b) for (a, b), ids in groups.items()]
    return F.col("month").between(F.lit(first), F.lit(last)) & reduce(Column.__or__, parts)
