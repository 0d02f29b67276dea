"""Delta table upkeep: ``OPTIMIZE`` then ``VACUUM`` on every table of the catalogue that exists.

Daily updates add a few small files to the current month of each silver and gold table; a month
of them is read as thirty files where one would do. ``OPTIMIZE`` rewrites each partition's small
files into large ones, clustered by household where the table is read by household (``ZORDER
BY household_id``: a household's history stays in few files per month), and compacts the
others. The files it replaces stay on disk for readers of older versions until ``VACUUM``
removes those older than the retention (default, and floor, 7 days: a running query, a
time-travel read or an update's Change Data Feed read of bronze may still need them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pyspark.sql import SparkSession

from energy_anomaly import catalog, tables
from energy_anomaly.session import cores

LISTING_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism"


@dataclass(frozen=True)
class Upkeep:
    table: str
    files_before: int
    files_after: int  # in the latest version, after OPTIMIZE
    files_removed: int  # deleted from storage by VACUUM
    seconds: float


def file_count(spark: SparkSession, path: str) -> int:
    return int(tables.table_detail(spark, path)["numFiles"])


def bring_up_to_date(spark: SparkSession, path: str, table: catalog.Table) -> None:
    """A table created by an older version gets what the catalogue now declares for it: its
    Change Data Feed and CHECK constraints (a constraint that rows already there break is
    refused, in one line)."""
    if table.change_data_feed and not tables.has_change_data_feed(spark, path):
        tables.set_property(spark, path, tables.CHANGE_DATA_FEED, "true")
    tables.ensure_checks(spark, path, table)


def maintain_table(
    spark: SparkSession, warehouse: str, table: catalog.Table, *, optimize: bool, vacuum_hours: int | None
) -> Upkeep | None:
    """OPTIMIZE and/or VACUUM one table; None where it does not exist."""
    path = tables.table_path(warehouse, table)
    if not tables.table_exists(spark, path):
        return None
    began = time.perf_counter()
    bring_up_to_date(spark, path, table)
    before = file_count(spark, path)
    # SQL rather than Delta's Python API, which on Spark Connect needs Delta's server plugin.
    # Names and hours are the catalogue's and the validated config's; the path is a quoted
    # identifier.
    identifier = tables.path_identifier(path)
    if optimize:
        zorder = f" ZORDER BY {tables.quoted_columns(table.cluster_by)}" if table.cluster_by else ""
        tables.retry_conflicts(lambda: spark.sql(f"OPTIMIZE {identifier}{zorder}").collect(), table.name, path)
    after = file_count(spark, path)
    removed = 0
    if vacuum_hours is not None:
        # VACUUM lists the table's folders in one Spark job of this many tasks; Spark's default,
        # 10,000, is for clusters listing huge tables (a small table took 24-38 s here, on 2 cores).
        tasks = str(max(8, 4 * cores(spark)))
        statement = f"VACUUM {identifier} RETAIN {int(vacuum_hours)} HOURS"
        with tables.session_conf(spark, LISTING_PARALLELISM, tasks):
            tables.retry_conflicts(lambda: spark.sql(statement).collect(), table.name, path)
        removed = vacuumed_files(spark, path)
    return Upkeep(table.name, before, after, removed, time.perf_counter() - began)


def vacuumed_files(spark: SparkSession, path: str) -> int:
    """Files the last VACUUM deleted, from the ``VACUUM END`` entry Delta logs in the history."""
    last = tables.last_history_entry(spark, path)
    if last is None or last["operation"] != "VACUUM END":
        return 0
    return int((last["operationMetrics"] or {}).get("numDeletedFiles", 0))


def run_maintain(
    spark: SparkSession,
    warehouse: str,
    *,
    names: list[str] | None = None,
    optimize: bool = True,
    vacuum_hours: int | None = None,
) -> list[Upkeep]:
    """The named tables (default: every table of the catalogue), in pipeline order; tables not
    written yet are skipped. ``vacuum_hours`` None: no VACUUM."""
    chosen = [catalog.table(name) for name in names] if names else list(catalog.TABLES)
    done = []
    for table in chosen:
        upkeep = maintain_table(spark, warehouse, table, optimize=optimize, vacuum_hours=vacuum_hours)
        if upkeep is not None:
            done.append(upkeep)
    return done
