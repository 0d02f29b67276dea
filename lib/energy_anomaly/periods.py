"""Periods of days: the one filter every stage uses for ``start``..``end`` (both included)."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def in_period(start: dt.date, end: dt.date, day: Column | None = None) -> Column:
    """``day`` (the ``day`` column unless given, e.g. ``F.to_date("ts")``) within start..end."""
    return (F.col("day") if day is None else day).between(F.lit(start), F.lit(end))


def filter_period(df: DataFrame, start: dt.date, end: dt.date, day: Column | None = None) -> DataFrame:
    return df.where(in_period(start, end, day))
