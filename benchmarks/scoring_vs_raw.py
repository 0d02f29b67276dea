"""Benchmark: Spark scoring stage vs raw batch inference of the same models on the same windows.

    .venv/bin/python -m benchmarks.scoring_vs_raw --warehouse W [--start 2013-09-01 --end 2013-12-31]

Needs a warehouse with gold/features and a trained model (``energy-anomaly run`` or ``train``).
Raw: the features of the period (plus the 7 days before) loaded once into pandas, then each
model's ``score`` over all of them in this single Python process, timed per model (TensorFlow
with its default threads, i.e. every core). Spark: the ``score`` stage end to end (grouping by
household, shipping the bundle, Arrow transfer, both Delta writes) on local[N].
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from pyspark.sql import functions as F

from energy_anomaly.catalog import GOLD_FEATURES, MODELS
from energy_anomaly.commands.common import production_bundle
from energy_anomaly.config import load_config
from energy_anomaly.models.bundle import Bundle
from energy_anomaly.models.inputs import HISTORY_DAYS
from energy_anomaly.scoring.stage import run_score
from energy_anomaly.session import build_session
from energy_anomaly.tables import read_table


def raw_inference_seconds(bundle: Bundle, frame) -> dict[str, float]:
    """Each model's batch ``score`` over ``frame`` (whole households sorted by day), timed."""
    seconds = {}
    for name in MODELS:
        started = time.perf_counter()
        getattr(bundle, name).score(frame)
        seconds[name] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2013, 9, 1))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2013, 12, 31))
    args = parser.parse_args()
    config = load_config().with_warehouse(args.warehouse)
    spark = build_session(config.spark)
    bundle_path = production_bundle(config)

    frame = (
        read_table(spark, args.warehouse, GOLD_FEATURES)
        .where(F.col("day").between(F.lit(args.start - dt.timedelta(days=HISTORY_DAYS)), F.lit(args.end)))
        .toPandas()
        .sort_values(["household_id", "day"])
        .reset_index(drop=True)
    )
    bundle = Bundle.load(bundle_path, threads=spark.sparkContext.defaultParallelism)
    bundle.scores(frame.head(500))  # warm-up: graph tracing, as a Spark worker's first batch pays too
    raw = raw_inference_seconds(bundle, frame)
    for name, elapsed in raw.items():
        print(f"raw {name:20s} {elapsed:7.2f} s  ({len(frame):,} rows, one process)")
    raw_total = sum(raw.values())
    print(f"raw total                {raw_total:7.2f} s")

    run_score(spark, args.warehouse, bundle_path, start=args.start, end=args.start)  # warm-up: JIT, workers
    started = time.perf_counter()
    result = run_score(spark, args.warehouse, bundle_path, start=args.start, end=args.end)
    spark_s = time.perf_counter() - started
    print(
        f"spark score stage        {spark_s:7.2f} s  "
        f"({result.days:,} household-days scored, {result.score_rows:,} rows written)"
    )
    print(
        f"ratio spark / raw: {spark_s / raw_total:.2f}x  (target <= 1.25x) "
        f"on {spark.sparkContext.defaultParallelism} cores"
    )


if __name__ == "__main__":
    main()
