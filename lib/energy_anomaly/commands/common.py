"""Helpers every subcommand shares: the session, dates, paths of the shipped sample, printers."""

from __future__ import annotations

import argparse
from pathlib import Path

from energy_anomaly.config import Config, is_uri, resolve_path
from energy_anomaly.session import build_session


def session(config: Config, jvm_cache_for: str | None = None):
    return build_session(config.spark, jvm_cache_for)


def refuse_missing_paths(paths: list[str]) -> None:
    """A local input path that names nothing is refused in one line before the JVM starts (which
    takes seconds). Patterns (``*?[{``) and URIs are left to Hadoop, whose glob rules they follow."""
    from energy_anomaly.errors import InputFileError

    for path in paths:
        if not is_uri(path) and not any(c in path for c in "*?[{") and not Path(path).exists():
            raise InputFileError(path, "no such file or directory")


def print_ingest(result) -> None:
    print(
        f"ingest: {result.files} file(s), {result.rows_read:,} data rows read = "
        f"{result.readings:,} bronze readings + {result.quarantined:,} quarantined"
    )
    for reason, n in sorted(result.quarantine_reasons.items()):
        print(f"  quarantined {reason}: {n:,}")
    if result.households is not None:
        print(f"  households: {result.households:,}")


def print_clean(result) -> None:
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


def parse_date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def sample_path(config: Config, *parts: str) -> str:
    return str(Path(resolve_path(config.demo.sample_dir)).joinpath(*parts))


def period_args(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--start", type=parse_date, help=f"first day of the {what} period (default from the config)")
    parser.add_argument("--end", type=parse_date, help=f"last day of the {what} period (default from the config)")


def model_args(parser: argparse.ArgumentParser) -> None:
    """Which model scores: the registry's champion unless a flag names another."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--alias", help="the registered version with this alias (default: champion)")
    group.add_argument("--model-version", type=int, metavar="N", help="registered version N of the model")
    group.add_argument("--model", metavar="DIR", help="an unregistered bundle folder (bypasses the registry)")


def production_bundle(config: Config, *, model=None, alias=None, version=None) -> Path:
    """The bundle folder to score with: ``model`` as given, else the registered version named by
    ``version`` or ``alias`` (default: champion), checked against the registry's digest."""
    if model is not None:
        return Path(model)
    from energy_anomaly.registry.store import Registry

    return Registry.of(config).bundle_folder(config.warehouse, alias=alias, version=version)
