"""The built wheel, installed into a fresh venv, runs ``energy-anomaly demo`` from an empty
directory: the default config and the sample data (bank holidays among them) travel as package
data, and nothing is read from the source checkout.

The venv gets the wheel alone (``--no-deps``); its dependencies are the pinned ones of this
environment, made visible by a path line (tests/standalone.py, dependencies_env), so the test does
not download TensorFlow and Spark again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from energy_anomaly.config import REPO_ROOT
from tests.standalone import dependencies_env

pytestmark = [pytest.mark.slow]


def test_the_wheel_runs_the_demo_from_an_empty_directory(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", dist, REPO_ROOT],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("energy_anomaly-*.whl")
    python = dependencies_env(tmp_path / "venv", wheel=wheel)
    script = python.parent / "energy-anomaly"
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}

    where = subprocess.run(
        [python, "-c", "import energy_anomaly; print(energy_anomaly.__file__)"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.returncode == 0, where.stderr[-2000:]
    where = where.stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), where

    demo = subprocess.run([script, "demo"], cwd=empty, env=env, capture_output=True, text=True, timeout=900)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "_shipped" in demo.stdout  # the sample came from the installed package
    assert (empty / "warehouse" / "gold" / "anomaly_scores" / "_delta_log").is_dir()
    assert list((empty / "warehouse" / "reports").rglob("*.png")), demo.stdout
