"""Benchmark: table layouts for per-household work, measured on the same rows.

    .venv/bin/python -m benchmarks.layout [--warehouse bench/ingest/warehouse]

Reads bronze/readings (from the ingest benchmark) and writes it three ways:
- ``as_ingested``: files in input order, no partitioning (what ingest writes);
- ``hash_bucket``: ``partitionBy(bucket = pmod(hash(household_id), 64))``;
- ``range_sorted``: range-partitioned by household, sorted by (household_id, ts) (what clean writes);
then times a one-household read (data skipping) and a per-household window over everything.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from pyspark.sql import Window
from pyspark.sql import functions as F

from energy_anomaly.config import load_config
from energy_anomaly.session import build_session

BUCKETS = 64


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default="bench/ingest/warehouse")
    parser.add_argument("--out", default="bench/layout")
    args = parser.parse_args()
    spark = build_session(load_config().spark)
    bronze = spark.read.format("delta").load(f"{args.warehouse}/bronze/readings").select("household_id", "ts", "kwh")
    one = bronze.select("household_id").orderBy("household_id").first()[0]
    layouts = {
        "as_ingested": lambda df: df.write.format("delta"),
        "hash_bucket": lambda df: (
            df.withColumn("bucket", F.pmod(F.hash("household_id"), F.lit(BUCKETS)))
            .write.format("delta")
            .partitionBy("bucket")
        ),
        "range_sorted": lambda df: (
            df.repartitionByRange("household_id").sortWithinPartitions("household_id", "ts").write.format("delta")
        ),
    }
    print(
        f"{'layout':14s} {'write s':>8s} {'files':>6s} {'1-household read s':>19s} {'files read':>10s} "
        f"{'per-household window s':>23s}"
    )
    for name, writer in layouts.items():
        path = str(Path(args.out, name).resolve())
        shutil.rmtree(path, ignore_errors=True)
        write_s, _ = timed(lambda: writer(bronze).save(path))
        table = spark.read.format("delta").load(path)
        files = len(table.inputFiles())
        where = F.col("household_id") == one
        if name == "hash_bucket":
            where = where & (F.col("bucket") == F.pmod(F.hash(F.lit(one)), F.lit(BUCKETS)))
        read_s, _ = timed(lambda: table.where(where).agg(F.sum("kwh")).collect())
        files_read = len(table.where(where).inputFiles())
        window = Window.partitionBy("household_id").orderBy("ts")
        window_s, _ = timed(
            lambda: (
                table.withColumn("prev", F.lag("kwh").over(window)).agg(F.sum(F.col("kwh") - F.col("prev"))).collect()
            )
        )
        print(f"{name:14s} {write_s:8.1f} {files:6d} {read_s:19.2f} {files_read:10d} {window_s:23.1f}", flush=True)


if __name__ == "__main__":
    main()
