"""The clean stage: ``bronze/readings`` -> ``silver/readings`` -> ``silver/daily``.

Silver is recomputed from the whole of bronze and replaces the previous version in one commit
per table, so re-running clean on unchanged bronze leaves silver unchanged. Files are range-
partitioned by household and sorted by (household_id, ts): per-household reads skip files by
their min/max statistics.

- silver/readings takes one shuffle, which serves the duplicate rule, the grid window and the
  layout, and one sort, which serves the duplicate rule and the grid.
- silver/daily is aggregated before it is range-partitioned. Each task first aggregates its own
  household-days, so the shuffles carry one partial row per household-day and task instead of
  every half-hour, and the range sampling reads the aggregation's shuffle output rather than the
  silver files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from energy_anomaly import catalog, tables
from energy_anomaly.clean.daily import to_daily
from energy_anomaly.clean.dedupe import filter_on_grid, is_on_grid, with_duplicates_resolved
from energy_anomaly.clean.grid import to_grid
from energy_anomaly.errors import EnergyAnomalyError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleanResult:
    bronze_rows: int
    off_grid: int
    duplicates_dropped: int
    conflicting_timestamps: int
    grid_rows: int
    observed: int
    imputed: int
    gap_slots: int
    households: int
    days: int
    days_complete: int


def run_clean(spark: SparkSession, warehouse: str, max_gap_slots: int) -> CleanResult:
    bronze = tables.read_table(spark, warehouse, catalog.BRONZE_READINGS)
    grid = (
        bronze.transform(filter_on_grid)
        .repartitionByRange("household_id")
        .transform(with_duplicates_resolved)
        .transform(to_grid, max_gap_slots)  # comes out sorted by (household_id, ts): no second sort
    )
    readings_path = tables.overwrite(grid, warehouse, catalog.SILVER_READINGS)
    silver = spark.read.format("delta").load(readings_path)
    daily_path = tables.overwrite(
        silver.transform(to_daily).repartitionByRange("household_id").sortWithinPartitions("household_id", "day"),
        warehouse,
        catalog.SILVER_DAILY,
    )
    return account_for_rows(spark, bronze, silver, spark.read.format("delta").load(daily_path))


def account_for_rows(spark, bronze, silver, daily) -> CleanResult:
    """Counts from the written tables; raises if bronze rows are not all accounted for."""
    b = bronze.agg(F.count(F.lit(1)).alias("rows"), F.count_if(~is_on_grid(F.col("ts"))).alias("off_grid")).first()
    s = silver.agg(
        F.count(F.lit(1)).alias("grid_rows"),
        F.sum("n_source_rows").alias("source_rows"),
        F.count_if(F.col("n_source_rows") > 0).alias("observed"),
        F.count_if("has_conflict").alias("conflicts"),
        F.count_if("is_imputed").alias("imputed"),
        F.count_if("is_gap").alias("gaps"),
        F.count_distinct("household_id").alias("households"),
    ).first()
    d = daily.agg(F.count(F.lit(1)).alias("days"), F.count_if("is_complete").alias("complete")).first()
    source_rows = s["source_rows"] or 0
    if b["rows"] != source_rows + b["off_grid"]:
        raise EnergyAnomalyError(
            f"clean lost rows: bronze {b['rows']} != grid source rows {source_rows} + off-grid {b['off_grid']}"
        )
    return CleanResult(
        bronze_rows=b["rows"],
        off_grid=b["off_grid"],
        duplicates_dropped=source_rows - s["observed"],
        conflicting_timestamps=s["conflicts"],
        grid_rows=s["grid_rows"],
        observed=s["observed"],
        imputed=s["imputed"],
        gap_slots=s["gaps"],
        households=s["households"],
        days=d["days"],
        days_complete=d["complete"],
    )
