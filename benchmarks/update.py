"""Benchmark: the daily update at fractions of the London shape: one new day, nothing new, one month.

    .venv/bin/python -m benchmarks.update [--fractions 0.1,1] [--work bench/update] [--java-home DIR] \
        [--full-rerun SECONDS]

For each fraction of the 5,567 households, a warehouse as a utility has it after its backfill:
``generate --format bronze`` for Nov 2011 - Feb 2014, then ``clean``, ``features`` and a quick
``train`` (timed as set-up, not part of the figures). Then, each as its own ``energy-anomaly
update`` process (JVM start included, as a scheduler runs it):

1. one new day (2014-03-01) for every household still reading on the history's last day (the
   generated history, like LCL, has households whose readings end earlier), landed as one
   Kaggle-layout CSV file: each household's last day of readings moved to that day;
2. the same update again with nothing new;
3. one month's drop (2014-03-02 .. 2014-03-31, one file per day, those households' last 30 days
   moved there);
4. a re-sent old day: ``RESENT_HOUSEHOLDS`` households' readings of ``RESENT_DAY``, each 10 % higher,
   as one file (a correction: its households' days around it re-gridded, their features and scores
   redone);
5. the long-running form, ``update --every 5`` as one process: ``LONG_RUNNING_DAYS`` new days landed
   one at a time, then a month's files at once, each ``IDLE_S`` seconds after the batch before it
   is done (longer than the minute after which Spark ends an idle Python worker, as between a
   utility's drops). Its first batch pays the JVM's start and warm-up as a scheduled update does;
   the later ones run in a warm JVM whose Python workers the process kept warm while it waited.

With ``--java-home`` (a Java 25+ installation), between 2 and 3 the next two days are updated on
that Java, the first recording the JVM's AOT cache (``energy_anomaly.jvm_cache``) and the second
starting from it, then nothing new on it; the month (two days later) then runs on it too.

Printed: wall time and peak memory of each (for the long-running form, each batch's own time and
the time from landing to its being done), the rows each wrote, and the ratios the issue asks
for (one day at this fraction against the first fraction's; one month against a full re-run of
ingest+clean+features+train+score at the London shape: the issue's 1,807 s, and ``--full-rerun``,
by default the 1,016 s the same stages took at commit 6811a18, both measured by
``benchmarks.full_shape``; on a slower machine give that machine's own).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.full_shape import GIB, SAMPLE, SHARED, table_rows
from benchmarks.measure import Measured, run_measured
from energy_anomaly import catalog, jvm_cache
from energy_anomaly.config import REPO_ROOT
from energy_anomaly.synth.generate import LCL_END, LCL_HOUSEHOLDS
from energy_anomaly.synth.inject_stage import KAGGLE_HEADER

CLI = [sys.executable, "-m", "energy_anomaly"]
FULL_RERUN_S = 1807  # ingest+clean+features+train+score at the London shape (issue #24's run)
# The same re-run at commit 6811a18 (benchmarks.full_shape --fractions 1, 2026-12-02), the default
# of --full-rerun: a run of full_shape on the machine measuring the month is the fairer figure.
FULL_RERUN_NOW_S = 1016
NEW_DAY = LCL_END + dt.timedelta(days=1)
MONTH = 30
RESENT_DAY = dt.date(2013, 6, 15)
RESENT_HOUSEHOLDS = 4
LONG_RUNNING_DAYS = 3
EVERY_S = 5
# Before each landing after the first, the long-running process waits this long: longer than the
# minute after which Spark ends an idle Python worker, as between a utility's daily drops.
IDLE_S = 70
BATCH_TIMEOUT_S = 900


def cli(argv: list[str], warehouse: Path, env: dict[str, str] | None = None) -> Measured:
    measured = run_measured([*CLI, *argv, "--warehouse", str(warehouse)], cwd=REPO_ROOT, env=env)
    if measured.returncode != 0:
        raise SystemExit(f"{argv[0]} failed (exit {measured.returncode}):\n{measured.stdout[-3000:]}")
    return measured


def backfilled(root: Path, households: int) -> Path:
    """The warehouse after the backfill (kept between runs of the benchmark)."""
    warehouse = root / "warehouse"
    done = root / "backfilled"
    train = ["train", "--start", "2013-01-01", "--end", "2013-08-31", "--per-stratum", "300", "--epochs", "3"]
    # What the backfill was built with: a warehouse backfilled by a version with other feature
    # columns gets its features rebuilt and a model trained on them (update refuses stale features).
    built_with = "features: " + ",".join(catalog.GOLD_FEATURES.schema.fieldNames()) + "\n"
    if done.exists():
        if done.read_text() != built_with:
            for argv in (["features"], train):
                print(f"set-up (features changed): {argv[0]} {cli(argv, warehouse).wall_s:,.0f} s", flush=True)
            done.write_text(built_with)
        return warehouse
    shutil.rmtree(warehouse, ignore_errors=True)
    profiles = SHARED / "halfhourly_2013" if SHARED.is_dir() else SAMPLE / "halfhourly_2013"
    info = SHARED / "informations_households.csv" if SHARED.is_dir() else SAMPLE / "informations_households.csv.gz"
    steps = [
        [
            "generate",
            "--format",
            "bronze",
            "--households",
            str(households),
            "--leave-share",  # no household leaves the trial early: as many as possible read on the last day
            "0",
            "--profiles",
            str(profiles),
            "--household-info",
            str(info),
        ],
        ["clean"],
        ["features"],
        train,
    ]
    for argv in steps:
        measured = cli(argv, warehouse)
        print(f"set-up: {argv[0]} {measured.wall_s:,.0f} s", flush=True)
    done.write_text(built_with)
    return warehouse


def land_days(warehouse: Path, landing: Path, days: list[dt.date], lookback: int) -> tuple[int, int]:
    """Writes one Kaggle-layout CSV per day in ``days``: day i holds the readings of every household
    still reading on the history's last day, of its (lookback - i)-th last day, moved to that date.
    Returns (households, lines written)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from energy_anomaly.config import load_config
    from energy_anomaly.session import build_session

    spark = build_session(load_config(REPO_ROOT / "conf" / "local.yaml").spark)
    bronze = spark.read.format("delta").load(str(warehouse / "bronze" / "readings"))
    days_of = bronze.select("household_id", F.to_date("ts").alias("day")).distinct()
    # Households whose readings ended earlier (as some LCL households' did) send nothing new.
    last = days_of.agg(F.max("day")).first()[0]
    active = days_of.where(F.col("day") == F.lit(last)).select("household_id")
    rank = F.row_number().over(Window.partitionBy("household_id").orderBy(F.desc("day")))
    last_days = days_of.join(active, "household_id").withColumn("rank", rank).where(F.col("rank") <= lookback)
    households = active.count()
    # All days in one job: day i takes each household's (lookback - i)-th last day.
    chosen = spark.createDataFrame([(lookback - i, day) for i, day in enumerate(days)], "rank INT, new_day DATE")
    moved = last_days.join(chosen, "rank").select("household_id", F.col("day").alias("from_day"), "new_day")
    shift = F.make_dt_interval(days=F.datediff(F.col("new_day"), F.col("from_day")))
    rows = bronze.withColumn("from_day", F.to_date("ts")).join(moved, ["household_id", "from_day"])
    text = rows.select(
        "new_day",
        F.col("household_id").alias(KAGGLE_HEADER[0]),
        F.date_format(F.col("ts") + shift, "yyyy-MM-dd HH:mm:ss").alias(KAGGLE_HEADER[1]),
        F.format_string("%.3f", "kwh").alias(KAGGLE_HEADER[2]),
    )
    staging = landing.parent / f".staging-{landing.name}"
    shutil.rmtree(staging, ignore_errors=True)
    text.repartition("new_day").write.partitionBy("new_day").option("header", True).csv(str(staging))
    landing.mkdir(parents=True, exist_ok=True)
    lines = 0
    for day in days:
        (part,) = (staging / f"new_day={day}").glob("part-*.csv")  # one partition holds each day
        lines += sum(1 for _ in part.open()) - 1
        part.rename(landing / f"{day}.csv")  # the landing rule: complete, then renamed into place
    shutil.rmtree(staging, ignore_errors=True)
    spark.stop()
    return households, lines


def land_resent(warehouse: Path, landing: Path) -> list[str]:
    """Writes one Kaggle-layout CSV with ``RESENT_HOUSEHOLDS`` households' readings of ``RESENT_DAY``
    from bronze, each 10 % higher; returns the households."""
    from pyspark.sql import functions as F

    from energy_anomaly.config import load_config
    from energy_anomaly.session import build_session

    spark = build_session(load_config(REPO_ROOT / "conf" / "local.yaml").spark)
    bronze = spark.read.format("delta").load(str(warehouse / "bronze" / "readings"))
    of_day = bronze.where(F.to_date("ts") == F.lit(RESENT_DAY))
    households = [r[0] for r in of_day.select("household_id").distinct().orderBy("household_id").collect()]
    chosen = households[:: max(1, len(households) // RESENT_HOUSEHOLDS)][:RESENT_HOUSEHOLDS]
    rows = (
        of_day.where(F.col("household_id").isin(chosen))
        .select(
            "household_id",
            F.date_format("ts", "yyyy-MM-dd HH:mm:ss").alias("ts"),
            F.format_string("%.3f", F.col("kwh") * 1.1).alias("kwh"),
        )
        .orderBy("household_id", "ts")
        .collect()
    )
    spark.stop()
    landing.mkdir(parents=True, exist_ok=True)
    partial = landing / f".resent-{RESENT_DAY}.csv.partial"
    partial.write_text(",".join(KAGGLE_HEADER) + "\n" + "".join(f"{h},{ts},{kwh}\n" for h, ts, kwh in rows))
    partial.rename(landing / f"resent-{RESENT_DAY}.csv")  # the landing rule
    return chosen


def update(warehouse: Path, landing: Path, what: str, env: dict[str, str] | None = None) -> Measured:
    measured = cli(["update", "--input", str(landing)], warehouse, env)
    lines = [line.strip() for line in measured.stdout.splitlines()]
    steps = next((found for line in lines if (found := steps_in(line))), "nothing new")
    print(f"| {what} | {measured.wall_s:,.1f} | {measured.peak_total / GIB:.2f} | {steps} |", flush=True)
    return measured


def steps_in(line: str) -> str | None:
    """The per-step times of an update's ``  steps: ingest 9.6 s, ...`` line; None for another line."""
    text = line.strip()
    return text.removeprefix("steps: ") if text.startswith("steps: ") else None


def java_env(java_home: str | None, cache_dir: Path) -> dict[str, str] | None:
    """The environment of updates on another Java (its AOT cache in a folder of this run's)."""
    if java_home is None:
        return None
    return {**os.environ, "JAVA_HOME": java_home, "ENERGY_ANOMALY_JVM_CACHE_DIR": str(cache_dir)}


def run_fraction(fraction: float, work: Path, java_home: str | None) -> dict:
    households = max(1, round(LCL_HOUSEHOLDS * fraction))
    root = work / f"h{households}"
    print(f"\n## {households:,} households ({fraction:g} of the London shape)\n", flush=True)
    # Each run of the benchmark updates a copy of the backfilled warehouse.
    run = root / "run"
    shutil.rmtree(run, ignore_errors=True)
    warehouse = run / "warehouse"
    shutil.copytree(backfilled(root, households), warehouse)
    landing = run / "landing"
    before = {t: table_rows(warehouse, t) for t in ("silver/readings", "gold/features")}
    print(f"history: {before['silver/readings']:,} silver slots, {before['gold/features']:,} household-days\n")
    active, lines = land_days(warehouse, landing, [NEW_DAY], 1)
    print(f"one day landed: {lines:,} lines for the {active:,} households still reading on the last day\n")
    print("| update | wall s | peak GiB | its steps |")
    print("| --- | ---: | ---: | --- |")
    result = {"households": households}
    result["day"] = update(warehouse, landing, f"one new day ({NEW_DAY})").wall_s
    result["nothing"] = update(warehouse, landing, "nothing new").wall_s
    env, next_day = java_env(java_home, run / "jvm-cache"), NEW_DAY + dt.timedelta(days=1)
    if env is not None:
        # Its first update records the JVM's AOT cache and assembles it at the end (set-up, as a
        # deployment's first update is); the next day's update starts from it.
        name = f"Java {jvm_cache.java_release(Path(java_home))}"
        for what in ("records the JVM cache", "with the JVM cache"):
            land_days(warehouse, landing, [next_day], 1)
            result["java day"] = update(warehouse, landing, f"{name}: one new day ({next_day}), {what}", env).wall_s
            next_day += dt.timedelta(days=1)  # the figure is the last of the two: with the cache
        result["java nothing"] = update(warehouse, landing, f"{name}: nothing new", env).wall_s
    month_days = [next_day + dt.timedelta(days=i) for i in range(MONTH)]
    _, month_lines = land_days(warehouse, landing, month_days, MONTH + 1)
    jvm = "" if env is None else "on that Java, "
    what = f"one month ({jvm}{month_days[0]} .. {month_days[-1]}, {month_lines:,} lines)"
    result["month"] = update(warehouse, landing, what, env).wall_s
    resent = land_resent(warehouse, landing)
    result["resent"] = update(warehouse, landing, f"a re-sent day ({RESENT_DAY}, {len(resent)} households)", env).wall_s
    result.update(long_running(warehouse, landing, month_days[-1] + dt.timedelta(days=1), env))
    return result


def long_running(
    warehouse: Path, landing: Path, first_day: dt.date, env: dict[str, str] | None, idle_s: float = IDLE_S
) -> dict:
    """``update --every`` as one process: days landed one at a time, then a month at once, each
    ``idle_s`` after the batch before it is done. Prints each batch's own time (what it prints) and
    the time from the last file's landing to the batch that applied it being done."""
    days = [first_day + dt.timedelta(days=i) for i in range(LONG_RUNNING_DAYS)]
    month = [days[-1] + dt.timedelta(days=1 + i) for i in range(MONTH)]
    # Written before the process starts (each landing is a rename, as the landing rule says), so
    # generating them takes no core from the batches being timed.
    staged = landing.parent / "long-running-staged"
    shutil.rmtree(staged, ignore_errors=True)
    land_days(warehouse, staged, days + month, len(days) + MONTH + 1)
    argv = [*CLI, "update", "--input", str(landing), "--every", str(EVERY_S), "--warehouse", str(warehouse)]
    process = subprocess.Popen(
        argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    lines: queue.Queue = queue.Queue()  # (when it was read, the line) of the process's output

    def read_output() -> None:
        for line in process.stdout:
            lines.put((time.monotonic(), line))

    threading.Thread(target=read_output, daemon=True).start()

    def land(names: list[dt.date]) -> float:
        for day in names:
            (staged / f"{day}.csv").rename(landing / f"{day}.csv")
        return time.monotonic()

    def batches_done(landed_at: float, files: int) -> tuple[float, float, int, str]:
        """(the batches' own seconds, seconds from landing to the last one's line, batches, the
        last one's steps) of the batches that apply the next ``files`` files: a poll may catch a
        month part-landed."""
        deadline, seconds, batches, seen, steps = landed_at + BATCH_TIMEOUT_S, 0.0, 0, 0, ""
        while time.monotonic() < deadline:
            try:
                at, line = lines.get(timeout=1)
            except queue.Empty:
                if process.poll() is not None:
                    raise SystemExit(f"update --every exited (code {process.returncode})") from None
                continue
            if found := re.match(r"ingest: (\d+) file", line):
                seen += int(found.group(1))
            steps = steps_in(line) or steps
            if found := re.search(r"batch done in ([\d.]+) s", line):
                seconds, batches = seconds + float(found.group(1)), batches + 1
                if seen >= files:
                    return seconds, at - landed_at, batches, steps
        raise SystemExit(f"update --every: {files} file(s) not applied within {BATCH_TIMEOUT_S} s")

    what = f"long-running `update --every {EVERY_S}`, idle {idle_s:.0f} s before each landing"
    print(f"\n| {what} | batch s | landed -> done s | its steps |")
    print("| --- | ---: | ---: | --- |")
    result = {}
    try:
        for i, day in enumerate(days):
            if i:
                time.sleep(idle_s)
            batch_s, latency, _, steps = batches_done(land([day]), 1)
            what = "its first batch (JVM start, warm-up)" if i == 0 else "the process warm"
            print(f"| one new day ({day}), {what} | {batch_s:.1f} | {latency:.1f} | {steps} |", flush=True)
            result["warm day"] = batch_s
        time.sleep(idle_s)
        batch_s, latency, batches, steps = batches_done(land(month), MONTH)
        split = "" if batches == 1 else f" (landed across {batches} polls: their batches summed)"
        what = f"one month ({month[0]} .. {month[-1]}), the process warm{split}"
        print(f"| {what} | {batch_s:.1f} | {latency:.1f} | {steps} |", flush=True)
        result["warm month"] = batch_s
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(staged, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", default="0.1,1", help="fractions of the 5,567 households (default 0.1,1)")
    parser.add_argument("--work", default="bench/update", help="where warehouses go (default bench/update)")
    parser.add_argument(
        "--java-home",
        help="also update on this Java (25+: with the JVM's AOT cache), side by side; the month runs on it",
    )
    parser.add_argument(
        "--full-rerun",
        type=float,
        default=FULL_RERUN_NOW_S,
        help="seconds of a full re-run on this machine (benchmarks.full_shape --fractions 1, end to end) "
        f"to measure the month against (default {FULL_RERUN_NOW_S:,}, commit 6811a18)",
    )
    args = parser.parse_args()
    results = [run_fraction(float(f), Path(args.work).resolve(), args.java_home) for f in args.fractions.split(",")]
    base = results[0]
    print("\n| households | JVM | one day s | vs first | nothing new s |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['households']:,} | default | {r['day']:.1f} | {r['day'] / base['day']:.2f}x | {r['nothing']:.1f} |"
        )
        if "java day" in r:
            print(
                f"| {r['households']:,} | --java-home | {r['java day']:.1f} | "
                f"{r['java day'] / base['java day']:.2f}x | {r['java nothing']:.1f} |"
            )
    print(f"\n| households | one month s | month / full re-run ({FULL_RERUN_S:,} s) | ({args.full_rerun:,.0f} s) |")
    print("| ---: | ---: | ---: | ---: |")
    for r in results:
        share, now = r["month"] / FULL_RERUN_S, r["month"] / args.full_rerun
        print(f"| {r['households']:,} | {r['month']:.1f} | {share:.1%} | {now:.1%} |")
    print("\n| households | long-running: one day s (warm) | one month s (warm) | month / full re-run |")
    print("| ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['households']:,} | {r['warm day']:.1f} | {r['warm month']:.1f} | "
            f"{r['warm month'] / FULL_RERUN_S:.1%}, {r['warm month'] / args.full_rerun:.1%} |"
        )


if __name__ == "__main__":
    main()
