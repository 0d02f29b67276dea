"""What each CLI subcommand does: its flags and the stage calls it wires together."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from energy_anomaly.config import REPO_ROOT, Config
from energy_anomaly.session import build_session


def _session(config: Config):
    return build_session(config.spark)


def _print_ingest(result) -> None:
    print(
        f"ingest: {result.files} file(s), {result.rows_read:,} data rows read = "
        f"{result.readings:,} bronze readings + {result.quarantined:,} quarantined"
    )
    for reason, n in sorted(result.quarantine_reasons.items()):
        print(f"  quarantined {reason}: {n:,}")
    if result.households is not None:
        print(f"  households: {result.households:,}")


def _print_clean(result) -> None:
    print(
        f"clean: {result.bronze_rows:,} bronze rows -> {result.grid_rows:,} grid slots for "
        f"{result.households:,} households ({result.observed:,} observed, {result.imputed:,} imputed, "
        f"{result.gap_slots:,} in long gaps)"
    )
    print(
        f"  duplicates dropped: {result.duplicates_dropped:,} "
        f"({result.conflicting_timestamps:,} timestamps had conflicting values, max kept); "
        f"off-grid readings left out: {result.off_grid:,}"
    )
    print(f"  household-days: {result.days:,}, complete: {result.days_complete:,}")


# --- setup -------------------------------------------------------------------------------------
def _setup_args(parser: argparse.ArgumentParser) -> None:
    pass


def _setup(args, config: Config) -> int:
    """Resolves Delta's jars (cached after the first run) and proves Spark + Delta work."""
    import tempfile

    spark = _session(config)
    with tempfile.TemporaryDirectory() as tmp:
        spark.range(3).write.format("delta").save(f"{tmp}/check")
        n = spark.read.format("delta").load(f"{tmp}/check").count()
    print(f"setup: Spark {spark.version} with Delta Lake ready ({n} rows round-tripped)")
    return 0


# --- ingest ------------------------------------------------------------------------------------
def _ingest_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", action="append", required=True, help="raw LCL CSV file, directory or glob (repeatable)")
    parser.add_argument("--households", action="append", help="informations_households.csv (repeatable)")


def _ingest(args, config: Config) -> int:
    from energy_anomaly.ingest.stage import run_ingest

    result = run_ingest(_session(config), config.warehouse, args.input, args.households, config.ingest.max_kwh_per_halfhour)
    _print_ingest(result)
    return 0


# --- clean -------------------------------------------------------------------------------------
def _clean_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-gap-slots", type=int, help="interpolate gaps up to this many half-hours (default from config)")


def _clean(args, config: Config) -> int:
    from energy_anomaly.clean.stage import run_clean

    max_gap = args.max_gap_slots if args.max_gap_slots is not None else config.clean.max_gap_slots
    _print_clean(run_clean(_session(config), config.warehouse, max_gap))
    return 0


# --- demo --------------------------------------------------------------------------------------
def _demo_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sample-dir", help="folder with the LCL sample (default: the one shipped in the repo)")


def _demo(args, config: Config) -> int:
    sample = Path(args.sample_dir) if args.sample_dir else Path(_sample_path(config))
    started = time.monotonic()
    spark = _session(config)
    print(f"demo: the real LCL sample in {sample} -> Delta warehouse {Path(config.warehouse).resolve()}")
    _pipeline(
        spark, config,
        [str(sample / "halfhourly_2013"), str(sample / "datastore")],
        [str(sample / "informations_households.csv.gz")],
    )
    print(f"demo: done in {time.monotonic() - started:.1f} s; tables under {Path(config.warehouse).resolve()}")
    return 0


# --- inject ------------------------------------------------------------------------------------
def _inject_args(parser: argparse.ArgumentParser) -> None:
    from energy_anomaly.synth.anomalies import ANOMALY_TYPES

    parser.add_argument("--input", required=True, help="LCL CSV file/dir/glob, or a Delta readings table")
    parser.add_argument("--output", required=True, help="CSV folder (CSV input) or Delta table (Delta input)")
    parser.add_argument("--labels", required=True, help="where the labels go (same format as the output)")
    parser.add_argument("--start", type=_date, required=True, help="first day that may be injected (YYYY-MM-DD)")
    parser.add_argument("--end", type=_date, required=True, help="last day that may be injected (YYYY-MM-DD)")
    parser.add_argument("--rate", type=float, default=0.05, help="share of household-days injected (default 0.05)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--types", default=",".join(ANOMALY_TYPES), help=f"comma-separated subset of {','.join(ANOMALY_TYPES)}")


def _date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _inject(args, config: Config) -> int:
    from energy_anomaly.errors import EnergyAnomalyError
    from energy_anomaly.synth.anomalies import ANOMALY_TYPES
    from energy_anomaly.synth.inject_stage import run_inject

    types = tuple(t.strip() for t in args.types.split(",") if t.strip())
    unknown = sorted(set(types) - set(ANOMALY_TYPES))
    if unknown or not types:
        raise EnergyAnomalyError(f"unknown anomaly types {unknown}; choose from {', '.join(ANOMALY_TYPES)}")
    if not 0 < args.rate <= 1 or args.start > args.end:
        raise EnergyAnomalyError("--rate must be in (0, 1] and --start not after --end")
    result = run_inject(
        _session(config), input_path=args.input, output_path=args.output, labels_path=args.labels,
        seed=args.seed, rate=args.rate, start=args.start, end=args.end, types=types,
        max_kwh=config.ingest.max_kwh_per_halfhour,
    )
    print(f"inject: {result.readings:,} readings written to {args.output}; labels in {args.labels}")
    for kind, n in sorted(result.labelled_days.items()):
        print(f"  {kind}: {n:,} household-days")
    if result.not_carried:
        print(f"  {result.not_carried:,} input lines were not readings (ingest would quarantine them) and were not carried")
    return 0


# --- generate ----------------------------------------------------------------------------------
def _resolve(path: str) -> str:
    """A relative path from the working directory, else from the repository (the shipped sample)."""
    candidate = Path(path)
    return str(candidate if candidate.is_absolute() or candidate.exists() else REPO_ROOT / candidate)


def _sample_path(config: Config, *parts: str) -> str:
    return str(Path(_resolve(config.demo.sample_dir)).joinpath(*parts))


def _generate_args(parser: argparse.ArgumentParser) -> None:
    from energy_anomaly.synth.generate import LCL_END, LCL_HOUSEHOLDS, LCL_START

    parser.add_argument("--format", default="bronze", choices=("bronze", "kaggle", "datastore"),
                        help="bronze: write bronze/readings + silver/households; kaggle/datastore: raw CSV")
    parser.add_argument("--output", help="folder for CSV output (kaggle/datastore)")
    parser.add_argument("--households", type=int, default=LCL_HOUSEHOLDS, help=f"number of households (default {LCL_HOUSEHOLDS})")
    parser.add_argument("--start", type=_date, default=LCL_START, help=f"first day (default {LCL_START})")
    parser.add_argument("--end", type=_date, default=LCL_END, help=f"last day (default {LCL_END})")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profiles", action="append", help="real LCL readings to draw day profiles from (default: the repo sample)")
    parser.add_argument("--household-info", action="append", help="informations_households.csv (default: the repo sample's)")
    parser.add_argument("--compression", default="none", choices=("none", "gzip"), help="CSV compression")


def _generate(args, config: Config) -> int:
    import dataclasses

    from energy_anomaly.errors import EnergyAnomalyError
    from energy_anomaly.synth.generate import Shape
    from energy_anomaly.synth.generate_stage import run_generate

    if args.format != "bronze" and not args.output:
        raise EnergyAnomalyError("--output is required for CSV formats")
    if args.households < 1 or args.start > args.end:
        raise EnergyAnomalyError("--households must be positive and --start not after --end")
    span = (args.end - args.start).days
    shape = dataclasses.replace(Shape(), households=args.households, start=args.start, end=args.end,
                                join_window_days=min(Shape().join_window_days, span // 2))
    started = time.monotonic()
    result = run_generate(
        _session(config), out_format=args.format, out=args.output, warehouse=config.warehouse,
        profiles=args.profiles or [_sample_path(config, "halfhourly_2013")],
        households_info=args.household_info or [_sample_path(config, "informations_households.csv.gz")],
        shape=shape, seed=args.seed, max_kwh=config.ingest.max_kwh_per_halfhour, compression=args.compression,
    )
    print(f"generate: {result.households:,} households, {result.rows:,} rows from {result.templates} real template households "
          f"in {time.monotonic() - started:.0f} s -> {result.where}")
    return 0


# --- compare -----------------------------------------------------------------------------------
def _compare_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--generated", required=True, help="generated readings: LCL CSV path/glob or a Delta readings table")
    parser.add_argument("--real", action="append", help="real readings (default: the repo sample)")
    parser.add_argument("--tolerance", type=float, default=0.15, help="relative distance counted as close (default 0.15)")


def _compare(args, config: Config) -> int:
    from pyspark.sql import functions as F

    from energy_anomaly.synth.compare import distances, filter_period, stats
    from energy_anomaly.synth.inject_stage import read_input

    spark = _session(config)
    max_kwh = config.ingest.max_kwh_per_halfhour
    real, *_ = read_input(spark, (args.real or [_sample_path(config, "halfhourly_2013")])[0], max_kwh)
    for extra in (args.real or [])[1:]:
        real = real.unionByName(read_input(spark, extra, max_kwh)[0].select(*real.columns))
    generated, *_ = read_input(spark, args.generated, max_kwh)
    first, last = real.agg(F.min(F.to_date("ts")), F.max(F.to_date("ts"))).first()
    real_stats = stats(filter_period(real.select("household_id", "ts", "kwh"), first, last))
    gen_stats = stats(filter_period(generated.select("household_id", "ts", "kwh"), first, last))
    print(f"compare: {gen_stats.days:,} generated vs {real_stats.days:,} real complete household-days, {first} .. {last}")
    print(f"  {'metric':32s} {'real':>10s} {'generated':>10s} {'distance':>9s}")
    for metric, r, g, d in distances(real_stats, gen_stats):
        mark = "ok" if d <= args.tolerance else "FAR"
        print(f"  {metric:32s} {r:10.4f} {g:10.4f} {d:9.1%}  {mark}")
    return 0


# --- features, train, score, run ---------------------------------------------------------------
def _features_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bank-holidays", help="uk_bank_holidays.csv (default from the config)")


def _features(args, config: Config) -> int:
    from energy_anomaly.features.stage import run_features

    n = run_features(_session(config), config.warehouse, _resolve(args.bank_holidays or config.features.bank_holidays))
    print(f"features: {n:,} household-days -> gold/features")
    return 0


def _period_args(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--start", type=_date, help=f"first day of the {what} period (default from the config)")
    parser.add_argument("--end", type=_date, help=f"last day of the {what} period (default from the config)")


def _train_args(parser: argparse.ArgumentParser) -> None:
    _period_args(parser, "training")
    parser.add_argument("--per-stratum", type=int, help="sampled days per ACORN group x tariff x season stratum")
    parser.add_argument("--epochs", type=int, help="maximum epochs of the Keras models")
    parser.add_argument("--seed", type=int)


def _train(args, config: Config) -> int:
    from energy_anomaly.training.stage import run_train

    c = config.train
    result = run_train(
        _session(config), config.warehouse,
        start=args.start or _date(c.start), end=args.end or _date(c.end),
        per_stratum=args.per_stratum or c.per_stratum, seed=args.seed if args.seed is not None else c.seed,
        threshold_quantile=c.threshold_quantile, epochs=args.epochs or c.epochs,
    )
    m = result.metadata
    print(f"train: model {result.version} on {m['sample_days']:,} sampled days of {m['households']} households "
          f"({m['fit_days']:,} fit, {m['calibration_days']:,} held out for calibration) -> {result.path}")
    for name, losses in m["final_losses"].items():
        print(f"  {name}: {losses['epochs']:.0f} epochs, final loss {losses['final_loss']:.4f}, val {losses['final_val_loss']:.4f}")
    return 0


def _score_args(parser: argparse.ArgumentParser) -> None:
    _period_args(parser, "scored")
    parser.add_argument("--model", help="model bundle folder (default: the latest trained under <warehouse>/models)")


def _score(args, config: Config) -> int:
    from energy_anomaly.scoring.stage import run_score
    from energy_anomaly.training.stage import latest_bundle

    result = run_score(
        _session(config), config.warehouse, args.model or latest_bundle(config.warehouse),
        start=args.start or _date(config.score.start), end=args.end or _date(config.score.end), flag_model=config.score.flag_model,
    )
    print(f"score: {result.days:,} household-days x 4 models = {result.score_rows:,} rows -> gold/anomaly_scores; "
          f"{result.anomalies:,} flagged by the {config.score.flag_model} -> gold/anomalies (model {result.version})")
    return 0


def _run_args(parser: argparse.ArgumentParser) -> None:
    _ingest_args(parser)


def _run(args, config: Config) -> int:
    return _pipeline(_session(config), config, args.input, args.households)


def _pipeline(spark, config: Config, inputs: list[str], households: list[str] | None) -> int:
    """ingest -> clean -> features -> train -> score: what ``run`` and ``demo`` both do."""
    from energy_anomaly.clean.stage import run_clean
    from energy_anomaly.ingest.stage import run_ingest

    _print_ingest(run_ingest(spark, config.warehouse, inputs, households, config.ingest.max_kwh_per_halfhour))
    _print_clean(run_clean(spark, config.warehouse, config.clean.max_gap_slots))
    return _model_stages(config)


def _model_stages(config: Config) -> int:
    empty = argparse.Namespace(bank_holidays=None, start=None, end=None, per_stratum=None, epochs=None, seed=None, model=None)
    for stage in (_features, _train, _score):
        stage(empty, config)
    return 0


COMMANDS = {
    "setup": ("resolve Delta's jars into the local cache and check Spark + Delta start", _setup_args, _setup),
    "ingest": ("raw LCL CSV (files, dirs, globs; plain or gzip) -> bronze/readings + bronze/quarantine", _ingest_args, _ingest),
    "clean": ("bronze/readings -> silver/readings (half-hourly grid) + silver/daily", _clean_args, _clean),
    "features": ("silver/daily -> gold/features (per-household baselines, profile, shape and calendar features)", _features_args, _features),
    "train": ("stratified sample of gold/features -> the three detectors + ensemble, saved with metadata", _train_args, _train),
    "score": ("every complete household-day of a period by every model -> gold/anomaly_scores, gold/anomalies", _score_args, _score),
    "run": ("ingest -> clean -> features -> train -> score", _run_args, _run),
    "generate": ("LCL-shaped readings at any scale (default: the full London shape), deterministic by --seed", _generate_args, _generate),
    "compare": ("distances between generated and real readings (daily totals, seasonal profiles, ...)", _compare_args, _compare),
    "inject": ("plant labelled synthetic anomalies into readings (CSV -> CSV, or Delta -> Delta)", _inject_args, _inject),
    "demo": ("the pipeline on the real sample shipped in the repo, on embedded Spark + local Delta", _demo_args, _demo),
}
