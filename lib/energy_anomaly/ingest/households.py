"""Household information (``informations_households.csv``) -> ``silver/households``.

One row per household; a second row for the same LCLid is quarantined (``duplicate_household``
when identical to the kept one, ``conflicting_household`` otherwise). The kept row is the first
in (tariff, acorn, acorn_group, block) order, so re-runs keep the same one.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from energy_anomaly.ingest.layouts import HOUSEHOLDS
from energy_anomaly.ingest.parse import field, is_header, with_fields

UNKNOWN_GROUP = "Unknown"
# LCL marks households without an ACORN classification as ACORN-U (or a bare "ACORN-").
UNCLASSIFIED_ACORN = ("ACORN-U", "ACORN-", "")
TARIFFS = ("Std", "ToU")


def acorn_group(raw: Column) -> Column:
    return F.when(raw.isin(*UNCLASSIFIED_ACORN) | raw.isNull(), F.lit(UNKNOWN_GROUP)).otherwise(raw)


def with_household_columns(fields_df: DataFrame) -> DataFrame:
    return (
        fields_df.withColumn("household_id", field(HOUSEHOLDS.household_col))
        .withColumn("tariff", field(1))
        .withColumn("acorn", field(2))
        .withColumn("acorn_group", acorn_group(field(3)))
        .withColumn("block", field(4))
    )


def with_household_reason(households_df: DataFrame) -> DataFrame:
    """Row checks, then the duplicate rule (needs a window over each LCLid's rows)."""
    by_household = Window.partitionBy("household_id").orderBy("tariff", "acorn", "acorn_group", "block", "raw_line")
    kept = F.first(F.struct("tariff", "acorn", "acorn_group", "block")).over(
        by_household.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    is_same_as_kept = F.struct("tariff", "acorn", "acorn_group", "block") == kept
    row_reason = (
        F.when(F.trim("raw_line") == "", "empty_line")
        .when(F.size("fields") != HOUSEHOLDS.width, "wrong_field_count")
        .when(F.col("household_id") == "", "missing_household_id")
        .when(~F.col("tariff").isin(*TARIFFS), "bad_tariff")
    )
    checked = households_df.withColumn("reason", row_reason)
    valid = checked.where(F.col("reason").isNull())
    ranked = (
        valid.withColumn("rank", F.row_number().over(by_household))
        .withColumn(
            "reason",
            F.when(F.col("rank") == 1, F.lit(None).cast("string"))
            .when(is_same_as_kept, "duplicate_household")
            .otherwise("conflicting_household"),
        )
        .drop("rank")
    )
    return checked.where(F.col("reason").isNotNull()).unionByName(ranked)


def parse_household_lines(lines_df: DataFrame) -> DataFrame:
    return (
        lines_df.transform(with_fields)
        .transform(with_household_columns)
        .where(~is_header())
        .transform(with_household_reason)
        .select("raw_line", "source_file", "household_id", "tariff", "acorn", "acorn_group", "block", "reason")
    )


def select_households(parsed_df: DataFrame) -> DataFrame:
    return parsed_df.where(F.col("reason").isNull()).select("household_id", "tariff", "acorn", "acorn_group", "block")
