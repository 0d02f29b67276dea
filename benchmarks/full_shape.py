"""Benchmark: the whole pipeline at the London shape and fractions of it, stage by stage, against the floor.

    .venv/bin/python -m benchmarks.full_shape [--fractions 0.1,0.333,1] [--work bench/shape]

For each fraction of the 5,567 households: ``generate`` LCL-layout CSV for Nov 2011 - Feb 2014
(input preparation, timed but not part of the pipeline), then each stage as its own
``energy-anomaly`` process, as a scheduler would run them: ingest, clean, features, train (Jan-Aug
2013), score (every household-day of the data). Per stage: wall time, rows in and out (from the
Delta tables' file statistics), rows/s, peak resident memory of the JVM and of the Python
processes (driver and Spark's Python workers with TensorFlow).

The floor, measured in the same run on the same data: DuckDB's CSV reader to Parquet on the same
files (2 threads), plus the three trained models' raw batch inference in this one Python process
over the same day windows (households in chunks). End to end / floor is printed per fraction,
and the per-row cost of each fraction against the smallest.

Beside ingest, clean and features, the same work in DuckDB SQL (``benchmarks.duckdb_reference``:
2 threads, each step reading the previous one's output) with the ratio, and spot checks that
DuckDB's silver and features agree with ours.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.duckdb_reference import clean_reference, compare_clean, compare_features, features_reference
from benchmarks.ingest_vs_duckdb import duckdb_to_parquet
from benchmarks.measure import Measured, run_measured
from benchmarks.scoring_vs_raw import raw_inference_seconds
from energy_anomaly.config import REPO_ROOT
from energy_anomaly.synth.generate import LCL_END, LCL_HOUSEHOLDS, LCL_START

SHARED = REPO_ROOT.parent / "shared" / "data" / "lcl"
SAMPLE = REPO_ROOT / "data" / "lcl_sample"
CLI = [sys.executable, "-m", "energy_anomaly"]
GIB = 2**30


@dataclass
class Stage:
    name: str
    measured: Measured
    rows_in: int
    rows_out: int


def table_rows(warehouse: Path, table: str) -> int:
    """Rows of a Delta table from its file statistics (no scan)."""
    from deltalake import DeltaTable

    actions = DeltaTable(str(warehouse / table)).get_add_actions(flatten=True)
    return int(sum(n or 0 for n in actions.column("num_records").to_pylist()))


def stage(name: str, argv: list[str], rows_in: int | None, out_tables: list[str], warehouse: Path) -> Stage:
    """``rows_in`` None: the stage's input rows are its output rows (ingest: bronze + quarantine)."""
    measured = run_measured([*CLI, *argv, "--warehouse", str(warehouse)], cwd=REPO_ROOT)
    if measured.returncode != 0:
        raise SystemExit(f"{name} failed (exit {measured.returncode}):\n{measured.stdout[-2000:]}")
    rows_out = sum(table_rows(warehouse, t) for t in out_tables) if out_tables else 0
    result = Stage(name, measured, rows_out if rows_in is None else rows_in, rows_out)
    print(row(result), flush=True)
    return result


def row(s: Stage) -> str:
    m = s.measured
    rate = s.rows_in / m.wall_s if m.wall_s else 0.0
    return (
        f"| {s.name} | {m.wall_s:,.0f} | {s.rows_in:,} | {s.rows_out:,} | {rate:,.0f} | "
        f"{m.peak_jvm / GIB:.2f} | {m.peak_python / GIB:.2f} | {m.peak_total / GIB:.2f} |"
    )


def raw_inference(warehouse: Path, start: dt.date, end: dt.date, chunk_households: int = 500) -> float:
    """The three models' batch inference in this process over every scored day's window."""
    import pandas as pd
    from deltalake import DeltaTable

    from energy_anomaly.commands.common import production_bundle
    from energy_anomaly.config import Config
    from energy_anomaly.models.bundle import Bundle
    from energy_anomaly.models.inputs import HISTORY_DAYS

    bundle = Bundle.load(production_bundle(Config(warehouse=str(warehouse))), threads=2)
    table = DeltaTable(str(warehouse / "gold" / "features"))
    households = sorted(table.to_pyarrow_table(columns=["household_id"]).column("household_id").unique().to_pylist())
    first = start - dt.timedelta(days=HISTORY_DAYS)
    elapsed = 0.0
    for i in range(0, len(households), chunk_households):
        chunk = households[i : i + chunk_households]
        frame = (
            table.to_pandas(filters=[("household_id", "in", chunk)])
            .pipe(lambda f: f[pd.to_datetime(f["day"]).dt.date.between(first, end)])
            .sort_values(["household_id", "day"])
            .reset_index(drop=True)
        )
        if i == 0:
            bundle.scores(frame.head(500))  # warm-up, as a Spark worker's first batch pays too
        elapsed += sum(raw_inference_seconds(bundle, frame).values())
    return elapsed


def score_stage(warehouse: Path, features: int) -> Stage:
    """Scores every household-day of the data (the whole LCL period)."""
    return stage(
        "score",
        ["score", "--start", str(LCL_START), "--end", str(LCL_END)],
        features,
        ["gold/anomaly_scores"],
        warehouse,
    )


def measure_floor(root: Path) -> tuple[float, int, float]:
    """(DuckDB CSV->Parquet seconds, its rows, raw inference seconds) on a fraction's data."""
    duck_s, duck_rows = duckdb_to_parquet(
        sorted((root / "raw" / "halfhourly").rglob("*.csv")), root / "duckdb_parquet", threads=2
    )
    return duck_s, duck_rows, raw_inference(root / "warehouse", LCL_START, LCL_END)


def print_references(root: Path, stages: list[Stage], duck_ingest_s: float) -> None:
    """Each of ingest, clean and features beside the same work done by DuckDB (2 threads), each
    DuckDB step reading the previous one's output, and whether the outputs agree."""
    duck = root / "duckdb_reference"
    clean = clean_reference(root / "duckdb_parquet", duck / "clean")
    features = features_reference(duck / "clean" / "daily.parquet", duck / "features")
    ours = {s.name: s.measured.wall_s for s in stages}
    print("\n| stage | ours s | DuckDB s | ratio | DuckDB does |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, theirs, what in (
        ("ingest", duck_ingest_s, "CSV -> typed Parquet"),
        ("clean", clean.seconds, "the grid, duplicate rule, interpolation, 48-value days (all of clean)"),
        ("features", features.seconds, "day statistics, baselines, 8 of 11 robust z (see duckdb_reference)"),
    ):
        print(f"| {name} | {ours[name]:,.1f} | {theirs:,.1f} | {ours[name] / theirs:.2f} | {what} |")
    warehouse = root / "warehouse"
    for line in compare_clean(warehouse, duck / "clean") + compare_features(warehouse, duck / "features"):
        print(f"agreement: {line}")


def run_fraction(fraction: float, work: Path) -> dict:
    households = max(1, round(LCL_HOUSEHOLDS * fraction))
    root = work / f"h{households}"
    warehouse, raw = root / "warehouse", root / "raw"
    profiles = SHARED / "halfhourly_2013" if SHARED.is_dir() else SAMPLE / "halfhourly_2013"
    info = SHARED / "informations_households.csv" if SHARED.is_dir() else SAMPLE / "informations_households.csv.gz"
    print(f"\n## {households:,} households ({fraction:g} of the London shape), {LCL_START}..{LCL_END}\n", flush=True)
    if not (raw / "halfhourly").is_dir():
        generated = run_measured(
            [
                *CLI,
                "generate",
                "--format",
                "kaggle",
                "--output",
                str(raw),
                "--households",
                str(households),
                "--profiles",
                str(profiles),
                "--household-info",
                str(info),
                "--warehouse",
                str(root / "scratch"),
            ],
            cwd=REPO_ROOT,
        )
        if generated.returncode != 0:
            raise SystemExit(f"generate failed:\n{generated.stdout[-2000:]}")
        print(f"input: generated in {generated.wall_s:,.0f} s", flush=True)
    shutil.rmtree(warehouse, ignore_errors=True)  # each stage's first run, as on a new deployment
    print("| stage | wall s | rows in | rows out | rows in/s | peak JVM GiB | peak Python GiB | peak total GiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    stages = []
    stages.append(
        stage(
            "ingest",
            ["ingest", "--input", str(raw / "halfhourly"), "--households", str(raw / "households")],
            None,
            ["bronze/readings", "bronze/quarantine"],
            warehouse,
        )
    )
    bronze = table_rows(warehouse, "bronze/readings")
    stages.append(stage("clean", ["clean"], bronze, ["silver/readings"], warehouse))
    daily = table_rows(warehouse, "silver/daily")
    stages.append(stage("features", ["features"], daily, ["gold/features"], warehouse))
    features = table_rows(warehouse, "gold/features")
    stages.append(stage("train", ["train"], features, [], warehouse))
    stages.append(score_stage(warehouse, features))
    end_to_end = sum(s.measured.wall_s for s in stages)

    duck_s, duck_rows, raw_s = measure_floor(root)
    floor = duck_s + raw_s
    input_rows = stages[0].rows_in
    print_references(root, stages, duck_s)
    print(
        f"\nend to end {end_to_end:,.0f} s for {input_rows:,} input rows ({end_to_end / input_rows * 1e6:.2f} µs/row); "
        f"floor: DuckDB CSV->Parquet {duck_s:,.1f} s ({duck_rows:,} rows) + raw inference {raw_s:,.1f} s "
        f"= {floor:,.1f} s; "
        f"end to end / floor = {end_to_end / floor:.2f}",
        flush=True,
    )
    return {"households": households, "rows": input_rows, "end_to_end": end_to_end, "floor": floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fractions", default="0.1,0.333,1", help="fractions of the 5,567 households (default 0.1,0.333,1)"
    )
    parser.add_argument("--work", default="bench/shape", help="where inputs and warehouses go (default bench/shape)")
    args = parser.parse_args()
    results = [run_fraction(float(f), Path(args.work).resolve()) for f in args.fractions.split(",")]
    base = results[0]
    print("\n| households | input rows | end to end s | floor s | end to end / floor | per-row cost vs first |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        per_row = (r["end_to_end"] / r["rows"]) / (base["end_to_end"] / base["rows"])
        print(
            f"| {r['households']:,} | {r['rows']:,} | {r['end_to_end']:,.0f} | {r['floor']:,.1f} "
            f"| {r['end_to_end'] / r['floor']:.2f} | {per_row:.2f} |"
        )


if __name__ == "__main__":
    main()
