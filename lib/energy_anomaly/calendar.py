"""Calendar Columns shared by the generator, the comparison and the features."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F


def is_weekend(day: Column) -> Column:
    return F.dayofweek(day).isin(1, 7)


def season(day: Column) -> Column:
    """Meteorological seasons: winter = Dec-Feb, spring = Mar-May, summer = Jun-Aug, autumn = Sep-Nov."""
    month = F.month(day)
    return (
        F.when(month.isin(12, 1, 2), "winter")
        .when(month.isin(3, 4, 5), "spring")
        .when(month.isin(6, 7, 8), "summer")
        .otherwise("autumn")
    )
