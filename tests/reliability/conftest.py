"""Shared helpers of the reliability suite: an independent line count, and the CLI in a subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import yaml
from hypothesis import HealthCheck, settings

from energy_anomaly.ingest.parse import ID_PADDING

# CI runs a fixed set of examples (derandomized); HYPOTHESIS_PROFILE=fuzz explores many more.
settings.register_profile(
    "ci",
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "fuzz",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def data_lines(raw: bytes) -> int:
    """Data lines of a file's bytes, counted without Spark: lines end at LF, CR or CRLF (Hadoop's
    line reader), a final terminator opens no line, and header lines (first field ``LCLid``) are not data."""
    lines = LINE_BREAK.split(raw)
    if lines and lines[-1] == b"":
        lines.pop()
    return sum(1 for line in lines if not is_header(line))


def is_header(line: bytes) -> bool:
    first = line.split(b",", 1)[0].decode("utf-8", "replace")
    return first.strip(ID_PADDING).lower() == "lclid"


def file_of(uri: str) -> Path:
    """The local path of a ``source_file`` URI as Spark reports it (``file:/a%3F.csv``)."""
    return Path(unquote(re.sub(r"^file:(//)?", "", uri)))


def cli_config(tmp_path: Path, **spark) -> Path:
    """A config for CLI subprocesses: a small driver, so that several JVMs fit beside the tests'."""
    path = tmp_path / "reliability.yaml"
    conf = {"spark.databricks.delta.snapshotPartitions": 1, "spark.ui.showConsoleProgress": "false"}
    path.write_text(
        yaml.safe_dump(
            {"spark": {"master": "local[2,3]", "driver_memory": "1g", "shuffle_partitions": 4, "conf": conf, **spark}}
        )
    )
    return path


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "energy_anomaly", *args]


def cli(*args: str, **popen) -> subprocess.Popen:
    """``energy-anomaly ARGS`` in a process of its own (its own driver and JVM)."""
    return subprocess.Popen(cli_argv(*args), env={**os.environ, "PYTHONUNBUFFERED": "1"}, **popen)


def killed_when(process: subprocess.Popen, happened, seconds: float, poll: float = 0.05) -> bool:
    """Kills ``process``'s whole group (-9: the driver and its JVM, no clean-up) as soon as
    ``happened()``; False if it finished first or ``seconds`` passed. Waits for it to end."""
    deadline, killed = time.monotonic() + seconds, False
    while time.monotonic() < deadline and process.poll() is None:
        if happened():
            os.killpg(process.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(poll)
    process.wait(timeout=60)
    return killed
