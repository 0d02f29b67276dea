"""Model subcommands: features, train, score, evaluate, promote."""

from __future__ import annotations

import argparse
from pathlib import Path

from energy_anomaly.commands.common import model_args, parse_date, period_args, production_bundle, session
from energy_anomaly.config import Config, resolve_path


def features_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bank-holidays", help="uk_bank_holidays.csv (default from the config)")
    parser.add_argument("--weather", help="DarkSky daily weather CSV, for the temperature (default from the config)")


def features_command(args, config: Config) -> int:
    features(config, bank_holidays=args.bank_holidays, weather=args.weather)
    return 0


def features(config: Config, bank_holidays: str | None = None, weather: str | None = None) -> int:
    """The features stage, printed; returns the household-days written."""
    from energy_anomaly.features.stage import run_features

    weather = weather or config.features.weather
    n = run_features(
        session(config),
        config.warehouse,
        resolve_path(bank_holidays or config.features.bank_holidays),
        resolve_path(weather) if weather else None,
    )
    print(f"features: {n:,} household-days -> gold/features")
    return n


def config_date(text: str | None):
    return None if text is None else parse_date(text)


def period_or(spark, warehouse: str, start, end, table: str = "gold/features"):
    """``start`` and ``end`` where given, else the first and last day ``table`` holds."""
    if start is not None and end is not None:
        return start, end
    from pyspark.sql import functions as F

    from energy_anomaly.tables import read_table

    first, last = read_table(spark, warehouse, table).agg(F.min("day"), F.max("day")).first()
    if first is None:
        from energy_anomaly.errors import EnergyAnomalyError

        raise EnergyAnomalyError(f"{table} holds no days: run the stages before this one first")
    return start or first, end or last


def train_args(parser: argparse.ArgumentParser) -> None:
    period_args(parser, "training")
    parser.add_argument("--per-stratum", type=int, help="sampled days per ACORN group x tariff x season stratum")
    parser.add_argument("--epochs", type=int, help="maximum epochs of the Keras models")
    parser.add_argument("--seed", type=int)


def train_command(args, config: Config) -> int:
    train(config, start=args.start, end=args.end, per_stratum=args.per_stratum, seed=args.seed, epochs=args.epochs)
    return 0


def train(config: Config, *, start=None, end=None, per_stratum=None, seed=None, epochs=None):
    """The train stage as one MLflow run, its bundle registered; printed. What is not given comes
    from the config. Returns the TrainResult."""
    import time

    from energy_anomaly.registry.store import Registry
    from energy_anomaly.training.stage import run_train

    began = time.perf_counter()
    c = config.train
    spark = session(config)
    start, end = period_or(spark, config.warehouse, start or config_date(c.start), end or config_date(c.end))
    settings = {
        "start": start,
        "end": end,
        "per_stratum": per_stratum or c.per_stratum,
        "seed": seed if seed is not None else c.seed,
        "threshold_quantile": c.threshold_quantile,
        "epochs": epochs or c.epochs,
    }
    registry = Registry.of(config)
    with registry.training_run(settings) as run:
        result = run_train(spark, config.warehouse, **settings)
        registry.log_training(result.metadata, result.features_version)
        number, alias = registry.register(Path(result.path))
    m = result.metadata
    print(
        f"train: model {result.version} on {m['sample_days']:,} sampled days of {m['households']} households "
        f"({m['fit_days']:,} fit, {m['calibration_days']:,} held out for calibration) -> {result.path}"
    )
    for name, losses in m["final_losses"].items():
        print(
            f"  {name}: {losses['epochs']:.0f} epochs, final loss {losses['final_loss']:.4f}, "
            f"val {losses['final_val_loss']:.4f}"
        )
    print(
        f"  registry: {registry.model_name} version {number} ({alias}), MLflow run {run.info.run_id}; "
        f"gold/features at Delta version {result.features_version}; "
        f"tracking took {registry.seconds:.1f} s of {time.perf_counter() - began:.1f} s"
    )
    return result


def score_args(parser: argparse.ArgumentParser) -> None:
    period_args(parser, "scored")
    model_args(parser)


def score_command(args, config: Config) -> int:
    score(config, start=args.start, end=args.end, model=args.model, alias=args.alias, model_version=args.model_version)
    return 0


def score(config: Config, *, start=None, end=None, model=None, alias=None, model_version=None):
    """The score stage with the champion (or the model the flags name), printed: the period given
    (flags, then the config), else every day not scored yet. Returns the ScoreResult (None:
    nothing to score)."""
    from energy_anomaly.errors import EnergyAnomalyError
    from energy_anomaly.scoring.stage import run_score, run_score_unscored

    start, end = start or config_date(config.score.start), end or config_date(config.score.end)
    if (start is None) != (end is None):
        raise EnergyAnomalyError("score: give both --start and --end, or neither (every day not scored yet)")
    bundle = production_bundle(config, model=model, alias=alias, version=model_version)
    spark = session(config)
    if start is None:
        result = run_score_unscored(spark, config.warehouse, bundle, flag_model=config.score.flag_model)
        if result is None:
            print("score: every complete household-day of gold/features is scored already; nothing to do")
            return None
    else:
        result = run_score(spark, config.warehouse, bundle, start=start, end=end, flag_model=config.score.flag_model)
    print(
        f"score: {result.days:,} household-days x 4 models = {result.score_rows:,} rows -> gold/anomaly_scores; "
        f"{result.anomalies:,} flagged by the {config.score.flag_model} -> gold/anomalies (model {result.version})"
    )
    print_monitoring(result.monitoring)
    return result


def print_monitoring(rows) -> None:
    """The run's overall gold/monitoring rows, one line per model, and any drifting slice."""
    from energy_anomaly.monitoring.core import drifting, drifting_models

    if rows is None or rows.empty:
        return
    overall = rows[rows["slice"] == "overall"]
    flagged = drifting_models(rows)
    parts = [
        f"{r.model} PSI {r.psi:.2f}, flagged {r.flagged_rate:.1%} (training {r.training_flagged_rate:.1%})"
        + (" DRIFT" if r.model in flagged else "")
        for r in overall.itertuples()
    ]
    print("  monitoring -> gold/monitoring: " + "; ".join(parts))
    in_slices = drifting(rows)
    in_slices = in_slices[in_slices["slice"] != "overall"]
    if not in_slices.empty:
        names = sorted(set(in_slices["slice"]))
        print(f"  drift also in {len(names)} slice(s): {', '.join(names[:6])}{' ...' if len(names) > 6 else ''}")


def evaluate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--labels",
        action="append",
        required=True,
        help="labels written by inject (CSV folder or Delta table; repeatable)",
    )
    period_args(parser, "evaluated")
    parser.add_argument("--run-id", help="name of this evaluation in gold/metrics (default: model, period and labels)")
    parser.add_argument("--report-dir", help="where report.md and its plots go (default <warehouse>/reports/<run_id>)")


def evaluate_command(args, config: Config) -> int:
    evaluate(config, args.labels, start=args.start, end=args.end, run_id=args.run_id, report_dir=args.report_dir)
    return 0


def evaluate(config: Config, labels: list[str], *, start=None, end=None, run_id=None, report_dir=None):
    """evaluate + report, printed; returns the report's path."""
    from pathlib import Path

    from energy_anomaly.evaluation import stage
    from energy_anomaly.evaluation.examples import collect_examples
    from energy_anomaly.evaluation.report import metrics_table, per_type_table, write_report
    from energy_anomaly.models.bundle import read_thresholds_and_version
    from energy_anomaly.tables import models_dir

    spark = session(config)
    start, end = period_or(
        spark,
        config.warehouse,
        start or config_date(config.score.start),
        end or config_date(config.score.end),
        table="gold/anomaly_scores",
    )
    result = stage.run_evaluate(spark, config.warehouse, labels, start=start, end=end, run_id=run_id)
    thresholds, _ = read_thresholds_and_version(models_dir(config.warehouse) / result.model_version)
    folder = Path(report_dir) if report_dir else stage.report_dir(config.warehouse, result.run_id)
    from pyspark.sql import functions as F

    from energy_anomaly import catalog
    from energy_anomaly.tables import read_table_or_empty

    monitoring = (
        read_table_or_empty(spark, config.warehouse, catalog.GOLD_MONITORING)
        .where(F.col("model_version") == F.lit(result.model_version))
        .toPandas()
    )
    examples = collect_examples(spark, config.warehouse, result.cases, result.model_version)
    report = write_report(folder, result, thresholds, examples, monitoring)
    print(
        f"evaluate: run {result.run_id}: {result.days:,} household-days, {result.anomalous_days:,} labelled anomalous; "
        f"{len(result.metrics):,} rows -> gold/metrics"
    )
    if result.labels_not_scored or result.labels_outside_period:
        print(
            f"  labels not scored (incomplete days): {result.labels_not_scored:,}; "
            f"outside the period: {result.labels_outside_period:,}"
        )
    from energy_anomaly.registry.store import Registry

    registered = Registry.of(config).log_evaluation(result.model_version, result.labels_key, result.metrics)
    if registered is not None:
        print(f"  metrics logged to the MLflow run of registered version {registered}")
    print(metrics_table(result.metrics, "overall"))
    print(per_type_table(result.metrics))
    print(f"report: {report.resolve()}")
    return report


def promote_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model-version", type=int, metavar="N", help="the registered version to promote (default: the challenger)"
    )
    parser.add_argument(
        "--force", action="store_true", help="promote even if it did worse than the champion on the same labels"
    )


def promote_command(args, config: Config) -> int:
    from energy_anomaly.registry.store import Registry

    registry = Registry.of(config)
    old, new, reason = registry.promote(version=args.model_version, force=args.force)
    was = f"version {old}" if old is not None else "none"
    print(f"promote: {registry.model_name} champion: {was} -> version {new} ({reason})")
    return 0
