"""Whole-pipeline subcommands: run, protocol (the standard evaluation) and demo."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from energy_anomaly.commands.common import parse_date, production_bundle, sample_path, session
from energy_anomaly.commands.data import anomaly_types, clean, ingest, inject
from energy_anomaly.commands.models import evaluate, features, score, train
from energy_anomaly.commands.progress import Progress, print_json
from energy_anomaly.config import Config
from energy_anomaly.errors import EnergyAnomalyError

# The standard protocol: train Jan-Aug 2013, test Sep-Dec 2013 with 5 % of household-days
# injected, every type equally by days, seed 42 (a config's train/score periods replace the two).
PROTOCOL_RATE, PROTOCOL_SEED = 0.05, 42
PROTOCOL_TRAIN = (dt.date(2013, 1, 1), dt.date(2013, 8, 31))
PROTOCOL_TEST = (dt.date(2013, 9, 1), dt.date(2013, 12, 31))


def run_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input", action="append", required=True, help="raw LCL CSV file, directory or glob (repeatable)"
    )
    parser.add_argument("--households", action="append", help="informations_households.csv (repeatable)")
    parser.add_argument(
        "--labels", action="append", help="labels of injected anomalies (repeatable): evaluate after scoring"
    )
    parser.add_argument("--json", action="store_true", help="end with a one-line JSON summary of the run")
    parser.add_argument(
        "--train",
        action="store_true",
        help="train a new model first and score with it (default: the registry's champion scores)",
    )


def run_command(args, config: Config) -> int:
    pipeline(config, args.input, args.households, args.labels, train_first=args.train, as_json=args.json)
    return 0


def pipeline(
    config: Config,
    inputs: list[str],
    households: list[str] | None,
    labels: list[str] | None,
    *,
    train_first: bool = False,
    train_period: tuple[dt.date, dt.date] | None = None,
    score_period: tuple[dt.date, dt.date] | None = None,
    train_seed: int | None = None,
    as_json: bool = False,
) -> Path | None:
    """ingest -> clean -> features -> (train) -> score (-> evaluate): returns the report's path.
    Without ``train_first`` the registry's champion scores; with none, nothing runs."""
    from energy_anomaly.monitoring.core import drifting_models

    if not train_first:
        try:
            production_bundle(config)
        except EnergyAnomalyError as exc:
            raise EnergyAnomalyError(f"{exc}; or run with --train") from None
    steps = ["ingest", "clean", "features", *(["train"] if train_first else []), "score"]
    steps += ["evaluate"] if labels else []
    progress = Progress(steps, session(config))
    with progress.step("ingest") as out:
        result = ingest(config, inputs, households)
        out.update(count=result.readings, unit="readings", quarantined=result.quarantined, files=result.files)
    with progress.step("clean") as out:
        result = clean(config)
        out.update(count=result.days, unit="household-days", complete=result.days_complete)
    with progress.step("features") as out:
        out.update(count=features(config), unit="household-days")
    model = None
    if train_first:
        with progress.step("train") as out:
            trained = train(config, seed=train_seed, **_period(train_period))
            model = trained.path
            out.update(count=trained.metadata["sample_days"], unit="sampled days", model_version=trained.version)
    with progress.step("score") as out:
        scored = score(config, model=model, **_period(score_period))
        if scored is not None:
            out.update(
                count=scored.days,
                unit="household-days",
                flagged=scored.anomalies,
                model_version=scored.version,
                drift_models=drifting_models(scored.monitoring),
            )
    report = None
    if labels:
        with progress.step("evaluate") as out:
            report = evaluate(config, labels, **_period(score_period))
            out.update(report=str(report.resolve()))
    if as_json:
        print_json({"command": "run", "warehouse": config.warehouse, "stages": progress.done})
    return report


def _period(period: tuple[dt.date, dt.date] | None) -> dict:
    return {} if period is None else {"start": period[0], "end": period[1]}


def protocol_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", action="append", help="real LCL readings (default: the sample shipped in the repo)")
    parser.add_argument(
        "--households", action="append", help="informations_households.csv (default: the repo sample's)"
    )
    parser.add_argument("--work-dir", help="where the injected copy and labels go (default <warehouse>/protocol)")
    parser.add_argument(
        "--seed",
        type=int,
        default=PROTOCOL_SEED,
        help=f"seed of the injection and of training (default {PROTOCOL_SEED}; the README reports 42, 7 and 123)",
    )
    parser.add_argument(
        "--types",
        help="inject only these anomaly types (comma-separated; default every type, balanced by labelled days)",
    )


def protocol_command(args, config: Config) -> int:
    inputs = args.input or [sample_path(config, "halfhourly_2013")]
    households = args.households or [sample_path(config, "informations_households.csv.gz")]
    types = anomaly_types(args.types) if args.types is not None else None
    protocol(config, inputs, households, args.work_dir, seed=args.seed, types=types)
    return 0


def protocol(
    config: Config,
    inputs: list[str],
    households: list[str],
    work_dir: str | None,
    *,
    seed: int = PROTOCOL_SEED,
    types: tuple[str, ...] | None = None,
) -> Path:
    """Inject the test period of every input (``types``: the injector's catalogue when None), then
    run the pipeline on the injected copies and evaluate."""
    work = Path(work_dir or Path(config.warehouse) / "protocol")
    train_start, train_end = _configured(config.train, PROTOCOL_TRAIN)
    start, end = _configured(config.score, PROTOCOL_TEST)
    if start <= train_end:
        raise EnergyAnomalyError(f"the test period starts {start}, inside the training period (ends {train_end})")
    print(
        f"protocol: train {train_start}..{train_end}, test {start}..{end}, {PROTOCOL_RATE:.0%} of test "
        f"household-days injected ({', '.join(types) if types else 'every type'}), seed {seed}"
    )
    injected, labels = [], []
    for n, source in enumerate(inputs):
        target = work / f"input_{n}"
        inject(
            config,
            source,
            str(target / "readings"),
            str(target / "labels"),
            seed=seed,
            rate=PROTOCOL_RATE,
            start=start,
            end=end,
            types=types,
        )
        injected.append(str(target / "readings"))
        labels.append(str(target / "labels"))
    return pipeline(
        config,
        injected,
        households,
        labels,
        train_first=True,
        train_period=(train_start, train_end),
        score_period=(start, end),
        train_seed=seed,
    )


def _configured(section, default: tuple[dt.date, dt.date]) -> tuple[dt.date, dt.date]:
    """A config section's period where it sets one, else the protocol's."""
    if section.start is None:
        return default
    return parse_date(section.start), parse_date(section.end)


def demo_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sample-dir", help="folder with the LCL sample (default: the one shipped in the repo)")


def demo_command(args, config: Config) -> int:
    """The standard protocol on the real sample shipped in the repo."""
    sample = Path(args.sample_dir) if args.sample_dir else Path(sample_path(config))
    started = time.monotonic()
    print(f"demo: the real LCL sample in {sample} -> Delta warehouse {Path(config.warehouse).resolve()}")
    report = protocol(
        config,
        [str(sample / "halfhourly_2013"), str(sample / "datastore")],
        [str(sample / "informations_households.csv.gz")],
        None,
    )
    print(f"demo: done in {time.monotonic() - started:.1f} s; tables under {Path(config.warehouse).resolve()}")
    print(f"demo: report at {report.resolve()}")
    return 0
