"""Benchmark: ingest of a >= 1 GB LCL CSV corpus by this project vs DuckDB's CSV reader to Parquet.

    .venv/bin/python -m benchmarks.ingest_vs_duckdb [--gb 1.0] [--repeat 3] [--dir bench/ingest]

Both read the same files in the same run on the same 2 cores, both trim and type the columns
(DuckDB: TRY_CAST to TIMESTAMP/DOUBLE into one Parquet file set; this project: the full ingest
with quarantine reasons into two Delta tables).

Method. **Cold**, the headline, as a user runs it: each engine as a fresh process on the corpus,
timed from the command to its exit (``energy-anomaly ingest``: Python imports, the JVM and Spark
session start, the JIT's first pass; DuckDB: a Python process importing duckdb and running the
same COPY). **Warm**, beside it: in this process, Spark's session already started, each engine
runs once untimed (for Spark, the JIT compilation of the parse and write paths, a fixed cost a
167M-row ingest amortises; printed, with the CPU seconds the JIT spent), then ``--repeat`` timed
pairs, alternating which goes first. Each ratio is a median of pairs: this machine's noise moves
single runs by +-15 %.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from benchmarks.lcl_corpus import build_corpus
from energy_anomaly.config import load_config
from energy_anomaly.ingest.stage import run_ingest
from energy_anomaly.session import build_session


def duckdb_to_parquet(files: list[Path], out: Path, threads: int) -> tuple[float, int]:
    shutil.rmtree(out, ignore_errors=True)
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    file_list = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    started = time.perf_counter()
    con.execute(
        f"""
        COPY (
            SELECT trim(LCLid) AS household_id,
                   TRY_CAST(trim(tstp) AS TIMESTAMP) AS ts,
                   TRY_CAST(trim("energy(kWh/hh)") AS DOUBLE) AS kwh,
                   filename AS source_file
            FROM read_csv({file_list}, header = true, all_varchar = true, filename = true)
        ) TO '{out}' (FORMAT parquet, PER_THREAD_OUTPUT true)
        """
    )
    elapsed = time.perf_counter() - started
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}/*.parquet')").fetchone()[0]
    return elapsed, rows


def cold_pair(files: list[Path], work: Path, config: str | None, threads: int) -> tuple[float, float]:
    """(our ingest, DuckDB's COPY) each as a fresh process, wall seconds from start to exit."""
    warehouse = work / "cold_warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    ours = [sys.executable, "-m", "energy_anomaly", "ingest", "--warehouse", str(warehouse)]
    ours += ["--config", config] if config else []
    for f in files:
        ours += ["--input", str(f)]
    duck = [
        sys.executable,
        "-c",
        "import sys; from pathlib import Path; from benchmarks.ingest_vs_duckdb import duckdb_to_parquet; "
        "duckdb_to_parquet([Path(f) for f in sys.argv[3:]], Path(sys.argv[1]), int(sys.argv[2]))",
        str(work / "cold_duckdb"),
        str(threads),
        *map(str, files),
    ]
    seconds = []
    for argv in (ours, duck):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - started)
    return seconds[0], seconds[1]


def jit_seconds(spark) -> float:
    """CPU seconds the JVM has spent compiling so far (its CompilationMXBean)."""
    bean = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getCompilationMXBean()
    return bean.getTotalCompilationTime() / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="corpus size in GB (default 1.0)")
    parser.add_argument("--repeat", type=int, default=3, help="timed pairs after the warm-up (default 3)")
    parser.add_argument("--dir", default="bench/ingest", help="working folder (corpus is reused)")
    parser.add_argument("--config", help="YAML config (default conf/local.yaml)")
    args = parser.parse_args()
    work = Path(args.dir).resolve()

    files, rows = build_corpus(work / "corpus", target_gb=args.gb)
    size = sum(f.stat().st_size for f in files)
    print(f"corpus: {len(files)} files, {size / 1e9:.2f} GB, {rows:,} data rows")

    config = load_config(args.config)
    # DuckDB gets the threads Spark's local master gets (local[N] or local[N,retries]).
    master = re.match(r"local\[(\d+)", config.spark.master or "")
    cores = int(master.group(1)) if master else os.cpu_count()
    cold = []
    for i in range(args.repeat):
        ours_s, duck_s = cold_pair(files, work, args.config, cores)
        cold.append(ours_s / duck_s)
        print(
            f"cold {i + 1}: energy-anomaly ingest process {ours_s:5.1f} s, duckdb process {duck_s:5.1f} s, "
            f"ratio {cold[-1]:.2f}x"
        )
    print(f"cold ratio, median of {len(cold)}: {statistics.median(cold):.2f}x (target <= 2.5x)")

    started = time.perf_counter()
    spark = build_session(config.spark)
    print(f"spark session start: {time.perf_counter() - started:.1f} s (not in the ratio)")
    inputs = [str(f) for f in files]

    def duck() -> float:
        duck_s, duck_rows = duckdb_to_parquet(files, work / "duckdb_parquet", threads=cores)
        assert duck_rows == rows, f"duckdb wrote {duck_rows:,} rows of {rows:,}"
        return duck_s

    def ours() -> tuple[float, float]:
        warehouse = work / "warehouse"
        shutil.rmtree(warehouse, ignore_errors=True)
        jit_before, started = jit_seconds(spark), time.perf_counter()
        result = run_ingest(
            spark,
            str(warehouse),
            inputs,
            None,
            config.ingest.max_kwh_per_halfhour,
            plausible_days=config.ingest.plausible_days,
        )
        elapsed = time.perf_counter() - started
        assert result.lines_read == result.rows_read == result.readings == rows, f"row counts differ: {result}"
        return elapsed, jit_seconds(spark) - jit_before

    warm_duck = duck()
    warm_ours, warm_jit = ours()
    print(
        f"warm-up (not in the ratio): duckdb {warm_duck:.1f} s, energy-anomaly {warm_ours:.1f} s "
        f"({warm_jit:.1f} s of JIT compilation CPU)"
    )

    ratios = []
    for i in range(args.repeat):
        if i % 2 == 0:
            duck_s, (ours_s, jit_s) = duck(), ours()
        else:
            (ours_s, jit_s), duck_s = ours(), duck()
        ratios.append(ours_s / duck_s)
        print(
            f"run {i + 1}: duckdb CSV -> Parquet {duck_s:5.1f} s ({rows / duck_s:,.0f} rows/s)   "
            f"energy-anomaly ingest -> Delta {ours_s:5.1f} s ({rows / ours_s:,.0f} rows/s, JIT {jit_s:.1f} s CPU)   "
            f"ratio {ratios[-1]:.2f}x"
        )
    print(
        f"warm ratio ingest / duckdb, median of {len(ratios)}: {statistics.median(ratios):.2f}x "
        f"(range {min(ratios):.2f}-{max(ratios):.2f}x) on {cores} cores, {rows:,} rows"
    )
    print(
        f"headline: cold {statistics.median(cold):.2f}x (range {min(cold):.2f}-{max(cold):.2f}x), "
        f"warm {statistics.median(ratios):.2f}x"
    )


if __name__ == "__main__":
    main()
