"""``energy-anomaly`` (and ``python -m energy_anomaly``): one subcommand per stage.

Thin by design: parse arguments, load the config, set up logging, build the session, call the
stage in the library and print what it did. Errors the user can act on exit 2 with one line.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

from energy_anomaly.config import Config, is_uri, load_config, resolve_path
from energy_anomaly.errors import EnergyAnomalyError

logger = logging.getLogger("energy_anomaly")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML config (default conf/local.yaml)")
    parser.add_argument("--warehouse", help="root folder/URI of the Delta tables (default from the config)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def build_parser() -> argparse.ArgumentParser:
    from energy_anomaly import commands

    parser = argparse.ArgumentParser(prog="energy-anomaly", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=version_line())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, _) in commands.COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        _common(command_parser)
        add_arguments(command_parser)
    return parser


def version_line() -> str:
    """The package's version with the Spark and Delta it runs on (what a bug report needs)."""
    from importlib.metadata import PackageNotFoundError, version

    from energy_anomaly import __version__

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return f"energy-anomaly {__version__} (pyspark {installed('pyspark')}, delta-spark {installed('delta-spark')})"


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("py4j", "matplotlib", "tensorflow", "absl"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    from energy_anomaly import commands

    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    if importlib.util.find_spec("pyspark") is None:
        return fail(
            args.command,
            "pyspark is not installed: pip install 'energy-anomaly[spark]' (Databricks runtimes bring their own)",
        )
    run: Callable[[argparse.Namespace, Config], int] = commands.COMMANDS[args.command][2]
    started = time.monotonic()
    try:
        config = load_config(args.config).with_warehouse(args.warehouse)
        config = config.with_warehouse(absolute(config.warehouse))
        absolute_path_arguments(args)
        check_warehouse(config.warehouse)
        status = run(args, config)
    except EnergyAnomalyError as exc:
        return fail(args.command, str(exc))
    except Exception as exc:
        reason = spark_failure(exc)
        if reason is None:
            raise
        logger.debug("the failure in full", exc_info=True)
        return fail(args.command, f"{reason} (run with -v for Spark's trace)")
    logger.info("%s finished in %.1f s", args.command, time.monotonic() - started)
    return status


# Flags that name local files or folders to read (found as ``resolve_path`` finds them: here, in
# the repository, in the installed package) and to write (here); ``--python`` names a path on the
# cluster's nodes and stays as given.
INPUT_ARGUMENTS = ("input", "households", "labels", "bank_holidays", "weather", "model", "real", "sample_dir")
OUTPUT_ARGUMENTS = ("output", "report_dir", "work_dir")


def absolute(path: str) -> str:
    """A local path (warehouse, output) absolute from the working directory; URIs as given."""
    return path if is_uri(path) else os.path.abspath(path)


def absolute_path_arguments(args: argparse.Namespace) -> None:
    """Path flags as absolute paths: relative to where the command runs, not to where Spark runs
    (a Spark Connect server's working directory is its own)."""
    for names, make_absolute in ((INPUT_ARGUMENTS, resolve_path), (OUTPUT_ARGUMENTS, absolute)):
        for name in names:
            value = getattr(args, name, None)
            if isinstance(value, str):
                setattr(args, name, make_absolute(value))
            elif isinstance(value, list):
                setattr(args, name, [make_absolute(v) if isinstance(v, str) else v for v in value])


def fail(command: str, reason: str) -> int:
    print(f"energy-anomaly {command}: error: {reason}", file=sys.stderr)
    return 2


def check_warehouse(warehouse: str) -> None:
    """A local warehouse folder must be creatable and writable before any Spark job starts."""
    if is_uri(warehouse):
        return  # hdfs://, s3a://, dbfs:/, ...: the cluster's file system decides
    folder = Path(warehouse)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise EnergyAnomalyError(f"warehouse {folder} is not writable ({exc.strerror or type(exc).__name__})") from exc


# Failures of a Spark job the user can act on, by a marker in Spark's message -> the one line said.
SPARK_FAILURES = (
    ("PATH_NOT_FOUND", "a path given does not exist"),
    ("Python worker exited unexpectedly", "a Python worker died and its retries failed too"),
    ("PythonException", "a Python worker failed"),
    ("AccessDeniedException", "permission denied"),
    ("Permission denied", "permission denied"),
    ("DELTA_", "Delta refused the operation"),
)


def spark_failure(exc: BaseException) -> str | None:
    """One line for a failed Spark job, or None for an error that is a bug (its trace is kept)."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    if not isinstance(exc, (Py4JError, PySparkException)):
        return None
    text = str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    detail = next((line for line in lines if "[" in line and "]" in line), lines[0] if lines else type(exc).__name__)
    for marker, what in SPARK_FAILURES:
        if marker in text:
            return f"{what}: {detail[:200]}"
    return f"a Spark job failed: {detail[:200]}"


if __name__ == "__main__":
    sys.exit(main())
