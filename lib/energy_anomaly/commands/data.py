"""Data subcommands: setup, ingest, clean, and the synthetic-data tools generate, inject, compare."""

from __future__ import annotations

import argparse
import time

from energy_anomaly.commands.common import (
    parse_date,
    print_clean,
    print_ingest,
    refuse_missing_paths,
    sample_path,
    session,
)
from energy_anomaly.config import Config


# --- setup -------------------------------------------------------------------------------------
def setup_args(parser: argparse.ArgumentParser) -> None:
    pass


def setup_command(args, config: Config) -> int:
    """Resolves Delta's jars (cached after the first run) and proves Spark + Delta work."""
    import tempfile

    spark = session(config)
    with tempfile.TemporaryDirectory() as tmp:
        spark.range(3).write.format("delta").save(f"{tmp}/check")
        n = spark.read.format("delta").load(f"{tmp}/check").count()
    print(f"setup: Spark {spark.version} with Delta Lake ready ({n} rows round-tripped)")
    return 0


# --- ingest ------------------------------------------------------------------------------------
def ingest_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", action="append", help="raw LCL CSV file, directory or glob (repeatable)")
    parser.add_argument("--households", action="append", help="informations_households.csv (repeatable)")


def ingest_command(args, config: Config) -> int:
    from energy_anomaly.errors import EnergyAnomalyError

    if not args.input and not args.households:
        raise EnergyAnomalyError("give --input (readings), --households (household information), or both")
    refuse_missing_paths([*(args.input or []), *(args.households or [])])
    ingest(config, args.input or [], args.households)
    return 0


def ingest(config: Config, inputs: list[str], households: list[str] | None):
    """The ingest stage, printed; returns the IngestResult."""
    from energy_anomaly.ingest.stage import run_ingest

    result = run_ingest(
        session(config),
        config.warehouse,
        inputs,
        households,
        config.ingest.max_kwh_per_halfhour,
        plausible_days=config.ingest.plausible_days,
    )
    print_ingest(result)
    return result


# --- clean -------------------------------------------------------------------------------------
def clean_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-gap-slots", type=int, help="interpolate gaps up to this many half-hours (default from config)"
    )


def clean_command(args, config: Config) -> int:
    clean(config, max_gap_slots=args.max_gap_slots)
    return 0


def clean(config: Config, max_gap_slots: int | None = None):
    """The clean stage, printed; returns the CleanResult."""
    from energy_anomaly.clean.stage import run_clean

    max_gap = max_gap_slots if max_gap_slots is not None else config.clean.max_gap_slots
    result = run_clean(session(config), config.warehouse, max_gap)
    print_clean(result)
    return result


# --- inject ------------------------------------------------------------------------------------
def inject_args(parser: argparse.ArgumentParser) -> None:
    from energy_anomaly.synth.anomalies import ANOMALY_TYPES

    parser.add_argument("--input", required=True, help="LCL CSV file/dir/glob, or a Delta readings table")
    parser.add_argument("--output", required=True, help="CSV folder (CSV input) or Delta table (Delta input)")
    parser.add_argument("--labels", required=True, help="where the labels go (same format as the output)")
    parser.add_argument("--start", type=parse_date, required=True, help="first day that may be injected (YYYY-MM-DD)")
    parser.add_argument("--end", type=parse_date, required=True, help="last day that may be injected (YYYY-MM-DD)")
    parser.add_argument("--rate", type=float, default=0.05, help="share of household-days injected (default 0.05)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--types", default=",".join(ANOMALY_TYPES), help=f"comma-separated subset of {','.join(ANOMALY_TYPES)}"
    )


def anomaly_types(text: str) -> tuple[str, ...]:
    """``--types``: a comma-separated subset of the injector's catalogue, checked."""
    from energy_anomaly.errors import EnergyAnomalyError
    from energy_anomaly.synth.anomalies import ANOMALY_TYPES

    types = tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = sorted(set(types) - set(ANOMALY_TYPES))
    if unknown or not types:
        raise EnergyAnomalyError(f"unknown anomaly types {unknown}; choose from {', '.join(ANOMALY_TYPES)}")
    return types


def inject_command(args, config: Config) -> int:
    from energy_anomaly.errors import EnergyAnomalyError

    types = anomaly_types(args.types)
    if not 0 < args.rate <= 1 or args.start > args.end:
        raise EnergyAnomalyError("--rate must be in (0, 1] and --start not after --end")
    inject(
        config,
        args.input,
        args.output,
        args.labels,
        seed=args.seed,
        rate=args.rate,
        start=args.start,
        end=args.end,
        types=types,
    )
    return 0


def inject(
    config: Config, source: str, output: str, labels: str, *, seed: int, rate: float, start, end, types=None
) -> None:
    from energy_anomaly.synth.anomalies import ANOMALY_TYPES
    from energy_anomaly.synth.inject_stage import run_inject

    result = run_inject(
        session(config),
        input_path=source,
        output_path=output,
        labels_path=labels,
        seed=seed,
        rate=rate,
        start=start,
        end=end,
        types=types or ANOMALY_TYPES,
        max_kwh=config.ingest.max_kwh_per_halfhour,
    )
    print(f"inject: {result.readings:,} readings written to {output}; labels in {labels}")
    for kind, n in sorted(result.labelled_days.items()):
        print(f"  {kind}: {n:,} household-days")
    if result.not_carried:
        print(
            f"  {result.not_carried:,} input lines were not readings "
            "(ingest would quarantine them) and were not carried"
        )


# --- generate ----------------------------------------------------------------------------------
def generate_args(parser: argparse.ArgumentParser) -> None:
    from energy_anomaly.synth.generate import LCL_END, LCL_HOUSEHOLDS, LCL_START

    parser.add_argument(
        "--format",
        default="bronze",
        choices=("bronze", "kaggle", "datastore"),
        help="bronze: write bronze/readings + silver/households; kaggle/datastore: raw CSV",
    )
    parser.add_argument("--output", help="folder for CSV output (kaggle/datastore)")
    parser.add_argument(
        "--households", type=int, default=LCL_HOUSEHOLDS, help=f"number of households (default {LCL_HOUSEHOLDS})"
    )
    parser.add_argument("--start", type=parse_date, default=LCL_START, help=f"first day (default {LCL_START})")
    parser.add_argument("--end", type=parse_date, default=LCL_END, help=f"last day (default {LCL_END})")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--profiles", action="append", help="real LCL readings to draw day profiles from (default: the repo sample)"
    )
    parser.add_argument(
        "--household-info", action="append", help="informations_households.csv (default: the repo sample's)"
    )
    parser.add_argument("--compression", default="none", choices=("none", "gzip"), help="CSV compression")
    parser.add_argument(
        "--leave-share",
        type=float,
        help="share of households that leave before the end (default 0.12, as in LCL; 0: all stay)",
    )


def generate_command(args, config: Config) -> int:
    import dataclasses

    from energy_anomaly.errors import EnergyAnomalyError
    from energy_anomaly.synth.generate import Shape
    from energy_anomaly.synth.generate_stage import run_generate

    if args.format != "bronze" and not args.output:
        raise EnergyAnomalyError("--output is required for CSV formats")
    if args.households < 1 or args.start > args.end:
        raise EnergyAnomalyError("--households must be positive and --start not after --end")
    if args.leave_share is not None and not 0 <= args.leave_share <= 1:
        raise EnergyAnomalyError("--leave-share must be between 0 and 1")
    span = (args.end - args.start).days
    shape = dataclasses.replace(
        Shape(),
        households=args.households,
        start=args.start,
        end=args.end,
        join_window_days=min(Shape().join_window_days, span // 2),
        leave_share=Shape().leave_share if args.leave_share is None else args.leave_share,
    )
    started = time.monotonic()
    result = run_generate(
        session(config),
        out_format=args.format,
        out=args.output,
        warehouse=config.warehouse,
        profiles=args.profiles or [sample_path(config, "halfhourly_2013")],
        households_info=args.household_info or [sample_path(config, "informations_households.csv.gz")],
        shape=shape,
        seed=args.seed,
        max_kwh=config.ingest.max_kwh_per_halfhour,
        compression=args.compression,
    )
    print(
        f"generate: {result.households:,} households, {result.rows:,} rows "
        f"from {result.templates} real template households "
        f"in {time.monotonic() - started:.0f} s -> {result.where}"
    )
    return 0


# --- compare -----------------------------------------------------------------------------------
def compare_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--generated", required=True, help="generated readings: LCL CSV path/glob or a Delta readings table"
    )
    parser.add_argument("--real", action="append", help="real readings (default: the repo sample)")
    parser.add_argument(
        "--tolerance", type=float, default=0.15, help="relative distance counted as close (default 0.15)"
    )


def compare_command(args, config: Config) -> int:
    from pyspark.sql import functions as F

    from energy_anomaly.periods import filter_period
    from energy_anomaly.synth.compare import distances, stats
    from energy_anomaly.synth.inject_stage import read_input

    spark = session(config)
    max_kwh = config.ingest.max_kwh_per_halfhour
    real, *_ = read_input(spark, (args.real or [sample_path(config, "halfhourly_2013")])[0], max_kwh)
    for extra in (args.real or [])[1:]:
        real = real.unionByName(read_input(spark, extra, max_kwh)[0].select(*real.columns))
    generated, *_ = read_input(spark, args.generated, max_kwh)
    first, last = real.agg(F.min(F.to_date("ts")), F.max(F.to_date("ts"))).first()
    real_stats = stats(filter_period(real.select("household_id", "ts", "kwh"), first, last, day=F.to_date("ts")))
    gen_stats = stats(filter_period(generated.select("household_id", "ts", "kwh"), first, last, day=F.to_date("ts")))
    print(
        f"compare: {gen_stats.days:,} generated vs {real_stats.days:,} real complete household-days, {first} .. {last}"
    )
    print(f"  {'metric':32s} {'real':>10s} {'generated':>10s} {'distance':>9s}")
    for metric, r, g, d in distances(real_stats, gen_stats):
        mark = "ok" if d <= args.tolerance else "FAR"
        print(f"  {metric:32s} {r:10.4f} {g:10.4f} {d:9.1%}  {mark}")
    return 0


# --- maintain ----------------------------------------------------------------------------------
def maintain_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--table", action="append", help="a table, e.g. gold/anomaly_scores (repeatable; default: all)")
    parser.add_argument(
        "--retention-hours", type=int, help="VACUUM keeps files younger than this (default from the config; >= 168)"
    )
    parser.add_argument("--no-optimize", action="store_true", help="skip OPTIMIZE")
    parser.add_argument("--no-vacuum", action="store_true", help="skip VACUUM")


def maintain_command(args, config: Config) -> int:
    from energy_anomaly import catalog
    from energy_anomaly.config import MIN_VACUUM_RETENTION_HOURS
    from energy_anomaly.errors import EnergyAnomalyError
    from energy_anomaly.maintenance import run_maintain

    known = [t.name for t in catalog.TABLES]
    for name in args.table or []:
        if name not in known:
            raise EnergyAnomalyError(f"--table {name[:60]!r}: not a table of the catalogue ({', '.join(known)})")
    hours = args.retention_hours if args.retention_hours is not None else config.maintain.vacuum_retention_hours
    if hours < MIN_VACUUM_RETENTION_HOURS:
        raise EnergyAnomalyError(
            f"--retention-hours {hours}: at least {MIN_VACUUM_RETENTION_HOURS} (7 days): younger files may still be "
            "read by a running query, a time-travel read or an update"
        )
    done = run_maintain(
        session(config),
        config.warehouse,
        names=args.table,
        optimize=not args.no_optimize,
        vacuum_hours=None if args.no_vacuum else hours,
    )
    if not done:
        print(f"maintain: no table under {config.warehouse} yet; nothing to do")
    for upkeep in done:
        clustered = catalog.table(upkeep.table).cluster_by
        how = f"ZORDER BY {', '.join(clustered)}" if clustered else "compaction"
        parts = []
        if not args.no_optimize:
            parts.append(f"OPTIMIZE ({how}) {upkeep.files_before:,} -> {upkeep.files_after:,} files")
        if not args.no_vacuum:
            parts.append(f"VACUUM deleted {upkeep.files_removed:,} files older than {hours} h")
        print(f"maintain: {upkeep.table}: {'; '.join(parts)} ({upkeep.seconds:.1f} s)")
    return 0
