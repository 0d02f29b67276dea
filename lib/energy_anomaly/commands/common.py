"""Helpers every subcommand shares: the session, dates, paths of the shipped sample, printers."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from energy_anomaly.config import REPO_ROOT, Config
from energy_anomaly.session import build_session


def session(config: Config):
    return build_session(config.spark)


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


def resolve(path: str) -> str:
    """A relative path from the working directory, else from the repository (the shipped sample);
    URIs (``hdfs://``, ``s3a://``, ``dbfs:/``...) as given."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:/", path):
        return path
    candidate = Path(path)
    return str(candidate if candidate.is_absolute() or candidate.exists() else REPO_ROOT / candidate)


def sample_path(config: Config, *parts: str) -> str:
    return str(Path(resolve(config.demo.sample_dir)).joinpath(*parts))


def period_args(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--start", type=parse_date, help=f"first day of the {what} period (default from the config)")
    parser.add_argument("--end", type=parse_date, help=f"last day of the {what} period (default from the config)")
