"""The daily mode: ``update`` (new files in a landing zone -> every table, once) and its stream."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from energy_anomaly.commands.common import model_args, print_ingest, production_bundle, session
from energy_anomaly.config import Config, is_uri, resolve_path


def update_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="the landing zone: a folder new raw LCL files arrive in")
    parser.add_argument(
        "--every",
        type=int,
        metavar="SECONDS",
        help="keep running, looking for new files every SECONDS (default: process what has landed, then stop)",
    )
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="with --every: stop after SECONDS")
    parser.add_argument("--json", action="store_true", help="end with a one-line JSON summary of the batches")
    model_args(parser)


def update_command(args, config: Config) -> int:
    from energy_anomaly.errors import EnergyAnomalyError

    if args.every is not None and args.every < 1:
        raise EnergyAnomalyError("--every must be at least 1 second")
    update(
        config,
        args.input,
        every_seconds=args.every,
        timeout_seconds=args.timeout,
        model=args.model,
        alias=args.alias,
        model_version=args.model_version,
        as_json=args.json,
    )
    return 0


def update(
    config: Config,
    landing: str,
    *,
    every_seconds=None,
    timeout_seconds=None,
    model=None,
    alias=None,
    model_version=None,
    as_json: bool = False,
    stop: threading.Event | None = None,
):
    """Runs the landing zone's new files through every stage with the champion (or the model the
    flags name); returns the per-batch UpdateResults. Setting ``stop`` (or, when it is None, the
    first SIGINT or SIGTERM) ends the update once the batch in progress is committed."""
    from energy_anomaly.errors import InputFileError
    from energy_anomaly.update import landing as zone
    from energy_anomaly.update.stage import run_update

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The registry lookup (MLflow's import and its store) runs while the JVM starts.
        looked_up = pool.submit(production_bundle, config, model=model, alias=alias, version=model_version)
        location = resolve_path(landing)
        if not is_uri(location) and not Path(location).is_dir():
            looked_up.result()  # no model is still the first thing said
            raise InputFileError(location, "the landing zone must be an existing folder (it may be empty)")
        # A scheduled update is a new JVM each day: on Java 25+ it starts from the last one's cache.
        spark = session(config, jvm_cache_for="update")
        bundle = looked_up.result()

    def apply(files: list[str]):
        batch_started = time.monotonic()
        present = [f for f in files if zone.still_there(spark, f)]
        for gone in sorted(set(files) - set(present)):
            print(f"update: {gone} was listed but is no longer there; skipped")
        if not present:
            return None
        result = run_update(
            spark,
            config.warehouse,
            present,
            bundle,
            max_kwh_per_halfhour=config.ingest.max_kwh_per_halfhour,
            plausible_days=config.ingest.plausible_days,
            max_gap_slots=config.clean.max_gap_slots,
            bank_holidays=resolve_path(config.features.bank_holidays),
            weather=resolve_path(config.features.weather) if config.features.weather else None,
            flag_model=config.score.flag_model,
        )
        print_update(result, time.monotonic() - batch_started)
        return result

    with contextlib.ExitStack() as stack:
        if stop is None:
            stop = stack.enter_context(stop_on_signals())
        apply_batch = apply
        if every_seconds is not None:
            from energy_anomaly.scoring.stage import workers_kept_warm

            # Between batches Spark would end the idle Python workers: they are kept warm.
            in_batch = stack.enter_context(workers_kept_warm(spark, bundle))

            def apply_batch(files: list[str]):
                in_batch.set()
                try:
                    return apply(files)
                finally:
                    in_batch.clear()

        batches = zone.run(spark, config.warehouse, location, apply_batch, every_seconds, timeout_seconds, stop)
    if batches.stopped:
        applied = len(batches.results)
        print(f"update: stopped on request after {applied} batch(es); files not applied yet wait for the next update")
    elif not batches.results:
        print(f"update: nothing new in {location} since the last update; no table touched")
    print(f"update: done in {time.monotonic() - started:.1f} s")
    if as_json:
        from energy_anomaly.commands.progress import print_json

        print_json(
            {
                "command": "update",
                "landing": location,
                "warehouse": config.warehouse,
                "seconds": round(time.monotonic() - started, 1),
                "batches": [batch_summary(r) for r in batches.results],
            }
        )
    from energy_anomaly import jvm_cache

    jvm_cache.finish(spark)  # the first update on Java 25+: the cache for the next
    return batches.results


@contextlib.contextmanager
def stop_on_signals(signals=(signal.SIGINT, signal.SIGTERM)):
    """An event the first of ``signals`` sets, asking the update to stop after the batch in
    progress; a second signal stops at once (KeyboardInterrupt, or exit 143 for SIGTERM).

    A service manager stops a long-running update with SIGTERM, a terminal with Ctrl-C. Without
    this, either would stop the stream mid-batch, and the next start would apply that batch's files
    again in full. Handlers can only be set from the main thread; elsewhere (an update run in a
    thread) the event is returned unwired and signals keep their handlers."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_signal(number, frame):
        if stop.is_set():
            if number == signal.SIGINT:
                raise KeyboardInterrupt
            raise SystemExit(128 + number)
        stop.set()
        name = signal.Signals(number).name
        print(f"update: {name} received: stopping after the batch in progress ({name} again stops at once)", flush=True)

    previous = {number: signal.signal(number, on_signal) for number in signals}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def batch_summary(result) -> dict:
    """One update batch for ``--json``: what it read, changed and scored, and each step's time."""
    from energy_anomaly.monitoring.core import drifting_models

    s = result.score
    return {
        "files": result.ingest.files,
        "readings": result.ingest.readings,
        "quarantined": result.ingest.quarantined,
        "households_changed": result.households,
        "unknown_households": len(result.unknown_households),
        "first_day": result.first_day,
        "last_day": result.last_day,
        "feature_days": result.feature_days,
        "scored_days": s.days if s else 0,
        "flagged": s.anomalies if s else 0,
        "model_version": s.version if s else None,
        "drift_models": drifting_models(s.monitoring if s is not None else None),
        "seconds": {step: round(v, 1) for step, v in result.seconds.items()},
    }


def print_update(result, seconds: float) -> None:
    print_ingest(result.ingest)
    print("  steps: " + ", ".join(f"{step} {s:.1f} s" for step, s in result.seconds.items()))
    if result.households == 0:
        print("  no readings changed: silver and gold untouched")
        return
    print(
        f"  changed: {result.households:,} household(s), days {result.first_day} .. {result.last_day} "
        f"-> silver/readings {result.slots:,} slots, silver/daily {result.days:,} household-days, "
        f"gold/features {result.feature_days:,} household-days"
    )
    if result.unknown_households:
        print(
            f"  {len(result.unknown_households):,} household(s) not in silver/households "
            f"(e.g. {result.unknown_households[0]}): ingested and scored, tariff and ACORN group unknown"
        )
    s = result.score
    print(
        f"  score: {s.days:,} household-days x 4 models -> gold/anomaly_scores; {s.anomalies:,} flagged "
        f"-> gold/anomalies (model {s.version}); batch done in {seconds:.1f} s"
    )
