"""``energy-anomaly`` (and ``python -m energy_anomaly``): one subcommand per stage.

Thin by design: parse arguments, load the config, set up logging, build the session, call the
stage in the library and print what it did. Errors the user can act on exit 2 with one line.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Callable, Sequence

from energy_anomaly.config import Config, load_config
from energy_anomaly.errors import EnergyAnomalyError

logger = logging.getLogger("energy_anomaly")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML config (default conf/local.yaml)")
    parser.add_argument("--warehouse", help="root folder/URI of the Delta tables (default from the config)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def build_parser() -> argparse.ArgumentParser:
    from energy_anomaly import commands

    parser = argparse.ArgumentParser(prog="energy-anomaly", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, _) in commands.COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        _common(command_parser)
        add_arguments(command_parser)
    return parser


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
    run: Callable[[argparse.Namespace, Config], int] = commands.COMMANDS[args.command][2]
    started = time.monotonic()
    try:
        config = load_config(args.config).with_warehouse(args.warehouse)
        status = run(args, config)
    except EnergyAnomalyError as exc:
        print(f"energy-anomaly {args.command}: error: {exc}", file=sys.stderr)
        return 2
    logger.info("%s finished in %.1f s", args.command, time.monotonic() - started)
    return status


if __name__ == "__main__":
    sys.exit(main())
