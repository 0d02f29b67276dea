"""DuckDB references for the clean and features stages: the same work in SQL, on the same machine.

    clean_reference(bronze_parquet, out, threads=2)     -> Reference
    features_reference(daily_parquet, out, threads=2)   -> Reference
    compare_clean(warehouse, out) / compare_features(warehouse, out) -> agreement lines

``benchmarks.full_shape`` runs them beside its stages, on DuckDB's own ingest output (the floor's
CSV -> Parquet), each in a fresh connection limited to the same 2 threads.

**clean**: the whole rule set of ``energy_anomaly.clean``: off-grid readings left out, duplicates
collapsed (largest kWh kept, ``has_conflict``), the half-hourly grid from each household's first
to last reading, gaps of up to ``max_gap_slots`` interpolated linearly, longer ones null, then
``silver/daily``'s 48-value arrays and counts. Outputs are sorted as silver is (household, time).

**features**: what SQL window functions express of ``energy_anomaly.features.core``: the day's
statistics from its 48 values, the 7- and 28-day baselines, the level, and the robust z of 8 of the
12 statistics against the previous 28 and 91 days (10th and 90th percentiles and the median by
``quantile_cont``). Left out: the profile, the 28-day mean profile and what is measured against it
(``profile_dist_28``, ``profile_corr_28``, ``shift_gain_28``, ``log_scale``), and the longest
repeated run (``max_repeat_share``): they need a 48-wide rolling mean or a scan along each day's
values. The reference therefore does less than the stage, and the ratio against it is the stage's
cost bound from above.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from energy_anomaly.features.core import (
    BASE_OFFSET_KWH,
    BASE_SLOTS,
    EPS,
    MIN_DAYS_7,
    MIN_DAYS_28,
    PEAK_OFFSET_KWH,
    RELATIVE_FLOORS,
    SPREAD_QUANTILES,
    SPREAD_TO_SIGMA,
    TOTAL_OFFSET_KWH,
)

SLOTS = 48
SECONDS_PER_SLOT = 1800
# Statistics whose z the reference computes (the rest need the mean profile or a run scan).
Z_STATS = ("log_total", "log_peak", "log_base", "cv", "roughness", "night_share", "max_over_mean", "zero_share")
WINDOWS = (28, 91)


@dataclass(frozen=True)
class Reference:
    seconds: float
    rows: int


def connect(threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = true")
    return con


def clean_sql(max_gap_slots: int) -> tuple[str, str]:
    """(grid query over ``bronze``, daily query over ``grid``) as DuckDB SQL."""
    gap = int(max_gap_slots)
    grid = f"""
        WITH on_grid AS (
            SELECT household_id, ts, kwh FROM bronze WHERE epoch(ts) % {SECONDS_PER_SLOT} = 0
        ), deduped AS (
            SELECT household_id, ts, max(kwh) AS kwh, count(*)::INT AS n_source_rows,
                   max(kwh) <> min(kwh) AS has_conflict
            FROM on_grid GROUP BY household_id, ts
        ), stepped AS (
            SELECT *, coalesce(((epoch(lead(ts) OVER w) - epoch(ts)) / {SECONDS_PER_SLOT})::INT, 1) AS steps,
                   lead(kwh) OVER w AS next_kwh
            FROM deduped WINDOW w AS (PARTITION BY household_id ORDER BY ts)
        )
        SELECT household_id,
               ts + to_seconds(k * {SECONDS_PER_SLOT}) AS ts,
               CASE WHEN k = 0 THEN kwh WHEN steps - 1 <= {gap} THEN kwh + (next_kwh - kwh) * k / steps END AS kwh,
               k > 0 AND steps - 1 <= {gap} AS is_imputed,
               k > 0 AND steps - 1 > {gap} AS is_gap,
               CASE WHEN k = 0 THEN n_source_rows ELSE 0 END AS n_source_rows,
               k = 0 AND has_conflict AS has_conflict
        FROM stepped, range(steps) AS slots(k)
    """
    slot_values = ", ".join(f"max(kwh) FILTER (WHERE slot = {s})" for s in range(SLOTS))
    daily = f"""
        WITH days AS (
            SELECT household_id, day, [{slot_values}] AS kwh,
                   count(*) FILTER (WHERE NOT is_imputed AND NOT is_gap)::INT AS n_observed,
                   count(*) FILTER (WHERE is_imputed)::INT AS n_imputed
            FROM (SELECT *, ts::DATE AS day,
                         ((epoch(ts) - epoch(ts::DATE::TIMESTAMP)) / {SECONDS_PER_SLOT})::INT AS slot FROM grid)
            GROUP BY household_id, day
        )
        SELECT household_id, day, kwh, n_observed, n_imputed, ({SLOTS} - n_observed - n_imputed)::INT AS n_missing,
               (n_observed + n_imputed) / {SLOTS} AS completeness, n_observed + n_imputed = {SLOTS} AS is_complete,
               CASE WHEN n_observed + n_imputed = {SLOTS} THEN list_sum(kwh) END AS daily_kwh,
               date_trunc('month', day)::DATE AS month
        FROM days ORDER BY household_id, day
    """
    return grid, daily


# What bronze keeps of DuckDB's typed CSV: the lines ingest does not quarantine (missing, unparsed,
# negative or impossible readings), so that both cleans start from the same readings.
BRONZE_RULES = """household_id IS NOT NULL AND household_id <> '' AND ts IS NOT NULL
    AND year(ts) BETWEEN 2000 AND 2099 AND kwh IS NOT NULL AND isfinite(kwh) AND kwh BETWEEN 0 AND {max_kwh}"""


def clean_reference(
    readings: Path, out: Path, max_gap_slots: int = 4, max_kwh: float = 12.0, threads: int = 2
) -> Reference:
    """DuckDB's clean of the typed Parquet readings under ``readings`` (what ``duckdb_to_parquet``
    writes), bronze's rules applied first: ``out``/readings.parquet, ``out``/daily.parquet."""
    out.mkdir(parents=True, exist_ok=True)
    grid_sql, daily_sql = clean_sql(max_gap_slots)
    con = connect(threads)
    started = time.perf_counter()
    rules = BRONZE_RULES.format(max_kwh=float(max_kwh))
    con.execute(f"CREATE VIEW bronze AS SELECT * FROM read_parquet('{readings}/*.parquet') WHERE {rules}")
    con.execute(f"COPY ({grid_sql} ORDER BY household_id, ts) TO '{out / 'readings.parquet'}' (FORMAT parquet)")
    con.execute(f"CREATE VIEW grid AS SELECT * FROM read_parquet('{out / 'readings.parquet'}')")
    con.execute(f"COPY ({daily_sql}) TO '{out / 'daily.parquet'}' (FORMAT parquet)")
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM grid").fetchone()[0]
    return Reference(seconds, rows)


def features_sql() -> str:
    """The features query over ``daily`` (silver/daily's columns)."""
    day_mean = f"total / {SLOTS}"
    stats = {
        "log_total": f"ln(total + {TOTAL_OFFSET_KWH})",
        "log_peak": f"ln(list_max(kwh) + {PEAK_OFFSET_KWH})",
        "log_base": f"ln(list_avg(list_sort(kwh)[1:{BASE_SLOTS}]) + {BASE_OFFSET_KWH})",
        "cv": f"list_aggregate(kwh, 'stddev_pop') / greatest({day_mean}, {EPS})",
        "roughness": f"list_avg(list_transform(kwh[2:], lambda x, i: abs(x - kwh[i]))) / greatest({day_mean}, {EPS})",
        "night_share": f"list_sum(kwh[3:12]) / greatest(total, {EPS})",
        "max_over_mean": f"list_max(kwh) / greatest({day_mean}, {EPS})",
        "zero_share": f"len(list_filter(kwh, lambda x: x = 0)) / {SLOTS}",
    }
    # A complete day's statistics (what gold/features stores and the windows read); others null.
    stat_columns = ", ".join(f"CASE WHEN is_complete THEN {expr} END AS {name}" for name, expr in stats.items())
    windows = ", ".join(
        f"w{n} AS (PARTITION BY household_id ORDER BY day RANGE BETWEEN INTERVAL {n} DAYS PRECEDING "
        f"AND INTERVAL 1 DAY PRECEDING)"
        for n in (7, *WINDOWS)
    )
    z_parts = []
    for name in Z_STATS:
        per_window = []
        for n in WINDOWS:
            quantiles = f"quantile_cont({name}, {list(SPREAD_QUANTILES)}) OVER w{n}"
            per_window.append(
                f"CASE WHEN count({name}) OVER w{n} >= {MIN_DAYS_28} THEN ({name} - ({quantiles})[2]) / "
                f"greatest((({quantiles})[3] - ({quantiles})[1]) / {SPREAD_TO_SIGMA}, {RELATIVE_FLOORS[name]}) END "
                f"AS z{n}_{name}"
            )
        z_parts.extend(per_window)
    z_columns = ", ".join(z_parts)
    z_final = ", ".join(
        f"CASE WHEN is_complete THEN CASE WHEN z28_{n} IS NULL OR abs(z91_{n}) < abs(z28_{n}) THEN z91_{n} "
        f"ELSE z28_{n} END END AS z_{n}"
        for n in Z_STATS
    )
    return f"""
        WITH stats AS (
            SELECT household_id, day, is_complete, kwh, total, {stat_columns}
            FROM (SELECT household_id, day, is_complete, kwh, CASE WHEN is_complete THEN list_sum(kwh) END AS total
                  FROM daily)
        ), windowed AS (
            SELECT *,
                   CASE WHEN count(total) OVER w7 >= {MIN_DAYS_7} THEN avg(total) OVER w7 END AS baseline_7,
                   CASE WHEN count(total) OVER w28 >= {MIN_DAYS_28} THEN avg(total) OVER w28 END AS baseline_28,
                   avg(total) OVER w28 AS recent,
                   {z_columns}
            FROM stats WINDOW {windows}
        ), levelled AS (
            SELECT *, coalesce(coalesce(baseline_28, recent) / {SLOTS}, list_avg(kwh)) AS level FROM windowed
        )
        SELECT household_id, day, is_complete, total AS daily_kwh,
               CASE WHEN is_complete THEN baseline_7 END AS baseline_7,
               CASE WHEN is_complete THEN baseline_28 END AS baseline_28,
               CASE WHEN is_complete THEN total / baseline_7 - 1 END AS dev_7,
               CASE WHEN is_complete THEN total / baseline_28 - 1 END AS dev_28,
               CASE WHEN is_complete THEN level END AS level,
               CASE WHEN is_complete THEN list_min(kwh) / greatest(level, {EPS}) END AS min_over_level,
               {", ".join(Z_STATS)}, {z_final}
        FROM levelled ORDER BY household_id, day
    """


def features_reference(daily: Path, out: Path, threads: int = 2) -> Reference:
    """DuckDB's features of the silver/daily Parquet file ``daily``: ``out``/features.parquet."""
    out.mkdir(parents=True, exist_ok=True)
    con = connect(threads)
    started = time.perf_counter()
    con.execute(f"CREATE VIEW daily AS SELECT * FROM read_parquet('{daily}')")
    con.execute(f"COPY ({features_sql()}) TO '{out / 'features.parquet'}' (FORMAT parquet)")
    seconds = time.perf_counter() - started
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{out / 'features.parquet'}')").fetchone()[0]
    return Reference(seconds, rows)


def _delta(con: duckdb.DuckDBPyConnection, name: str, path: Path, columns: list[str]) -> None:
    """Registers the Delta table at ``path`` (its current files, via deltalake) as ``name``."""
    from deltalake import DeltaTable

    con.register(name, DeltaTable(str(path)).to_pyarrow_dataset().to_table(columns=columns))


def _agree(ours: tuple, theirs: tuple) -> str:
    """Counts must be equal; sums (floats, summed in another order) equal to 1e-9 relative."""
    same = all(
        a == b if isinstance(a, int) else abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0) for a, b in zip(ours, theirs)
    )
    return "agree" if same else "DIFFER"


def compare_clean(warehouse: Path, out: Path) -> list[str]:
    """Spot checks of silver against DuckDB's clean: counts and sums that any difference moves."""
    con = connect(2)
    _delta(con, "ours", warehouse / "silver" / "readings", ["kwh", "is_imputed", "is_gap", "n_source_rows"])
    _delta(con, "ours_daily", warehouse / "silver" / "daily", ["is_complete", "daily_kwh"])
    summary = """SELECT count(*), count(*) FILTER (WHERE is_imputed), count(*) FILTER (WHERE is_gap),
                        sum(n_source_rows)::BIGINT, sum(kwh) FROM {}"""
    daily = "SELECT count(*), count(*) FILTER (WHERE is_complete), sum(daily_kwh) FROM {}"
    lines = []
    for name, query, ours, theirs in (
        ("silver/readings (rows, imputed, gaps, source rows, kWh)", summary, "ours", out / "readings.parquet"),
        ("silver/daily (days, complete, daily kWh)", daily, "ours_daily", out / "daily.parquet"),
    ):
        mine = con.execute(query.format(ours)).fetchone()
        other = con.execute(query.format(f"read_parquet('{theirs}')")).fetchone()
        shown = lambda row: ", ".join(f"{v:,}" if isinstance(v, int) else f"{v:,.3f}" for v in row)  # noqa: E731
        lines.append(f"{name}: ours {shown(mine)}; DuckDB {shown(other)} -> {_agree(mine, other)}")
    return lines


def compare_features(warehouse: Path, out: Path) -> list[str]:
    """Per shared feature column, how many household-days differ by more than 1e-9, and the largest difference."""
    columns = ["baseline_7", "baseline_28", "level", "min_over_level", *Z_STATS, *[f"z_{n}" for n in Z_STATS]]
    con = connect(2)
    _delta(con, "ours", warehouse / "gold" / "features", ["household_id", "day", *columns])
    differ = lambda c: f"(o.{c} IS NULL) <> (t.{c} IS NULL) OR abs(o.{c} - t.{c}) > 1e-9"  # noqa: E731
    row = con.execute(
        f"""SELECT count(*), {", ".join(f"count(*) FILTER (WHERE {differ(c)})" for c in columns)},
                   {", ".join(f"coalesce(max(abs(o.{c} - t.{c})), 0)" for c in columns)}
            FROM ours o JOIN read_parquet('{out / "features.parquet"}') t USING (household_id, day)"""
    ).fetchone()
    joined, counts, largest = row[0], row[1 : 1 + len(columns)], row[1 + len(columns) :]
    worst = max(range(len(columns)), key=lambda i: largest[i])
    return [
        f"gold/features: {joined:,} household-days x {len(columns)} shared columns; values differing by more "
        f"than 1e-9: {sum(counts):,} (largest {largest[worst]:.2e}, {columns[worst]})"
    ]
