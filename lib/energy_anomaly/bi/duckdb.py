"""Reading the gold tables without Spark: DuckDB's Delta reader, and the ``deltalake`` package.

``connect(warehouse)`` opens DuckDB with a view per table (``delta_scan`` over the Delta log, so a
reader sees only committed data) and ``questions()`` are the dashboard queries of
``dashboard.sql``. DuckDB's ``delta`` extension normally downloads on first use; where the
machine cannot reach extensions.duckdb.org, the ``duckdb-extension-delta`` wheel from PyPI
(installed with the ``bi`` extra) provides it for the matching DuckDB version.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

VIEWS = {
    "scores": "gold/anomaly_scores",
    "anomalies": "gold/anomalies",
    "metrics": "gold/metrics",
    "households": "silver/households",
    "features": "gold/features",
    "monitoring": "gold/monitoring",
}


def _load_delta(connection) -> None:
    try:
        connection.execute("LOAD delta")
        return
    except Exception:  # not installed in DuckDB's own extension folder: use the PyPI wheel's copy
        pass
    import duckdb
    import duckdb_extension_delta

    folder = Path(duckdb_extension_delta.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    extension = folder / "delta.duckdb_extension"
    if not extension.is_file():
        raise RuntimeError(f"no DuckDB delta extension for DuckDB {duckdb.__version__} in {folder.parent}")
    if "'" in str(extension):  # LOAD takes no parameter: the path is quoted, so it must not hold a quote
        raise RuntimeError(f"cannot load DuckDB's delta extension from a path with a quote: {extension}")
    connection.execute(f"LOAD '{extension}'")


def connect(warehouse: str):
    """DuckDB connection with the views of ``VIEWS`` for the tables that exist under ``warehouse``.

    The table's path goes to ``delta_scan`` as a bound parameter of DuckDB's relational API, never
    into SQL text: a warehouse folder may be named anything.
    """
    import duckdb

    connection = duckdb.connect()
    _load_delta(connection)
    for view, table in VIEWS.items():
        path = Path(warehouse) / table
        if (path / "_delta_log").is_dir():
            connection.table_function("delta_scan", [str(path.resolve())]).create_view(view)
    return connection


def questions() -> dict[str, str]:
    """name -> SQL, in the order of ``dashboard.sql``."""
    text = resources.files("energy_anomaly.bi").joinpath("dashboard.sql").read_text()
    parts = re.split(r"^-- name: (\w+)\s*$", text, flags=re.MULTILINE)
    return {name: sql.strip() for name, sql in zip(parts[1::2], parts[2::2])}


def read_with_deltalake(warehouse: str, table: str):
    """A gold table as pandas through the ``deltalake`` package (no Spark, no DuckDB)."""
    from deltalake import DeltaTable

    return DeltaTable(str(Path(warehouse) / table)).to_pandas()
