"""Benchmark: ingest of a >= 1 GB LCL CSV corpus by this project vs DuckDB's CSV reader to Parquet.

    .venv/bin/python -m benchmarks.ingest_vs_duckdb [--gb 1.0] [--dir bench/ingest]

Both read the same files in the same run on the same 2 cores, both trim and type the columns
(DuckDB: TRY_CAST to TIMESTAMP/DOUBLE into one Parquet file set; this project: the full ingest
with quarantine reasons into two Delta tables). Spark's JVM start and a warm-up ingest of a
separate 0.1 GB corpus (the JVM's JIT compilation of the parse and write paths, a fixed cost that
a 167M-row ingest amortises) are timed separately and left out of the ratio: DuckDB, compiled
ahead of time, has neither.
"""
from __future__ import annotations

import argparse
import shutil
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="corpus size in GB (default 1.0)")
    parser.add_argument("--dir", default="bench/ingest", help="working folder (corpus is reused)")
    parser.add_argument("--config", help="YAML config (default conf/local.yaml)")
    args = parser.parse_args()
    work = Path(args.dir).resolve()

    files, rows = build_corpus(work / "corpus", target_gb=args.gb)
    size = sum(f.stat().st_size for f in files)
    print(f"corpus: {len(files)} files, {size / 1e9:.2f} GB, {rows:,} data rows")

    config = load_config(args.config)
    started = time.perf_counter()
    spark = build_session(config.spark)
    print(f"spark session start: {time.perf_counter() - started:.1f} s (not in the ratio)")
    cores = spark.sparkContext.defaultParallelism
    started = time.perf_counter()
    warmup_files, _ = build_corpus(work / "warmup_corpus", target_gb=0.1)
    shutil.rmtree(work / "warmup", ignore_errors=True)
    run_ingest(spark, str(work / "warmup"), [str(f) for f in warmup_files], None, config.ingest.max_kwh_per_halfhour)
    print(f"spark warm-up ingest of a separate 0.1 GB corpus: {time.perf_counter() - started:.1f} s (not in the ratio)")

    duck_s, duck_rows = duckdb_to_parquet(files, work / "duckdb_parquet", threads=cores)
    print(f"duckdb  CSV -> Parquet:             {duck_s:7.1f} s  {duck_rows:,} rows  ({duck_rows / duck_s:,.0f} rows/s)")

    warehouse = work / "warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    started = time.perf_counter()
    result = run_ingest(spark, str(warehouse), [str(f) for f in files], None, config.ingest.max_kwh_per_halfhour)
    ours_s = time.perf_counter() - started
    print(
        f"energy-anomaly ingest -> Delta:     {ours_s:7.1f} s  {result.rows_read:,} rows  "
        f"({result.rows_read / ours_s:,.0f} rows/s; {result.readings:,} bronze + {result.quarantined:,} quarantined)"
    )
    assert result.lines_read == result.rows_read == rows == duck_rows, "row counts differ"
    print(f"ratio ingest / duckdb: {ours_s / duck_s:.2f}x  (target <= 3x) on {cores} cores")


if __name__ == "__main__":
    main()
