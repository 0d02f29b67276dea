"""Benchmark: table layouts for per-household work and for a day's append, measured on the same rows.

    .venv/bin/python -m benchmarks.layout [--table bench/update/h557/run/warehouse/silver/readings]

Reads a readings table (household_id, ts, kwh; by default silver/readings of the update
benchmark's 1/10 shape) and writes it four ways:
- ``as_ingested``: files in input order, no partitioning (what ingest writes);
- ``hash_bucket``: ``partitionBy(bucket = pmod(hash(household_id), 64))``;
- ``range_sorted``: range-partitioned by household, sorted by (household_id, ts) (silver before
  the daily update);
- ``month_range_sorted``: ``partitionBy(month)``, range-partitioned by household and sorted by
  (household_id, ts) within each month's files (silver and gold now);
then times a one-household read (data skipping), a per-household window over everything, and
the daily update's write: the rows of one new day (every household's last day, moved one day on)
replacing that day, as ``replaceWhere`` does it, with the files that write rewrote.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import time
from pathlib import Path

from delta.tables import DeltaTable
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
    parser.add_argument("--table", default="bench/update/h557/run/warehouse/silver/readings")
    parser.add_argument("--out", default="bench/layout")
    args = parser.parse_args()
    spark = build_session(load_config().spark)
    bronze = (
        spark.read.format("delta")
        .load(args.table)
        .select("household_id", "ts", "kwh")
        .where(F.col("kwh").isNotNull())
        .withColumn("month", F.trunc(F.to_date("ts"), "month"))
    )
    one = bronze.select("household_id").orderBy("household_id").first()[0]
    last_day = bronze.agg(F.max(F.to_date("ts"))).first()[0]
    new_day = (
        bronze.where(F.to_date("ts") == F.lit(last_day))
        .withColumn("ts", F.col("ts") + F.expr("INTERVAL 1 DAY"))
        .withColumn("month", F.trunc(F.to_date("ts"), "month"))
        .cache()
    )
    new_day.count()
    layouts = {
        "as_ingested": lambda df: df.write.format("delta"),
        "hash_bucket": lambda df: df.write.format("delta").partitionBy("bucket"),
        "range_sorted": lambda df: (
            df.repartitionByRange("household_id").sortWithinPartitions("household_id", "ts").write.format("delta")
        ),
        "month_range_sorted": lambda df: (
            df.repartitionByRange("household_id")
            .sortWithinPartitions("household_id", "ts")
            .write.format("delta")
            .partitionBy("month")
        ),
    }
    print(
        f"{'layout':20s} {'write s':>8s} {'files':>6s} {'1-household read s':>19s} {'files read':>10s} "
        f"{'per-household window s':>23s} {'append a day s':>15s} {'files rewritten':>16s}"
    )
    for name, writer in layouts.items():
        path = str(Path(args.out, name).resolve())
        shutil.rmtree(path, ignore_errors=True)
        rows = bronze if name == "month_range_sorted" else bronze.drop("month")
        if name == "hash_bucket":
            rows = rows.withColumn("bucket", F.pmod(F.hash("household_id"), F.lit(BUCKETS)))
        write_s, _ = timed(lambda: writer(rows).save(path))
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
        new = last_day + dt.timedelta(days=1)
        day = F.col("ts").between(
            F.lit(dt.datetime.combine(new, dt.time())), F.lit(dt.datetime.combine(new, dt.time(23, 30)))
        )
        if name == "month_range_sorted":
            day = day & (F.col("month") == F.lit((last_day + dt.timedelta(days=1)).replace(day=1)))
        appended = (
            new_day
            if name != "hash_bucket"
            else new_day.withColumn("bucket", F.pmod(F.hash("household_id"), F.lit(BUCKETS)))
        )
        if name != "month_range_sorted":
            appended = appended.drop("month")
        ordered = appended.repartitionByRange("household_id").sortWithinPartitions("household_id", "ts")
        append_s, _ = timed(lambda: ordered.writeTo(f"delta.`{path}`").overwrite(day))
        metrics = DeltaTable.forPath(spark, path).history(1).select("operationMetrics").first()[0]
        print(
            f"{name:20s} {write_s:8.1f} {files:6d} {read_s:19.2f} {files_read:10d} {window_s:23.1f} "
            f"{append_s:15.1f} {metrics.get('numRemovedFiles', '0'):>16s}",
            flush=True,
        )


if __name__ == "__main__":
    main()
