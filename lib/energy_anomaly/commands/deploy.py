"""Deployment subcommand: package (the zip for spark-submit --py-files, and the command to use it)."""

from __future__ import annotations

import argparse

from energy_anomaly.config import Config


def package_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", default="dist", help="folder for energy_anomaly-<version>.zip (default dist)")
    parser.add_argument("--master", default="spark://HOST:7077", help="cluster master for the printed command")
    parser.add_argument("--python", help="the nodes' Python with the dependencies (default: the cluster's python3)")


def package_command(args, config: Config) -> int:
    from energy_anomaly.deploy import package_zip, shell_line, submit_command

    archive = package_zip(args.output)
    print(f"package: {archive} ({archive.stat().st_size / 1024:.0f} KiB)")
    example = submit_command(
        "run",
        [
            "--config",
            "conf/cluster.yaml",
            "--warehouse",
            config.warehouse,
            "--input",
            "RAW_CSV_DIR",
            "--households",
            "HOUSEHOLDS_CSV",
        ],
        master=args.master,
        py_files=archive,
        delta_package=config.spark.delta_package,
        python=args.python,
    )
    print("submit a stage with, e.g.:\n  " + shell_line(example))
    return 0
