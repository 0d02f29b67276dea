"""One session-scoped, Delta-enabled Spark for every Spark test (UTC, Arrow on, UI off)."""
from __future__ import annotations

from pathlib import Path

import pytest

from energy_anomaly.config import REPO_ROOT, SparkConfig

SAMPLE_DIR = REPO_ROOT / "data" / "lcl_sample"
SHARED_LCL = REPO_ROOT.parent / "shared" / "data" / "lcl"

TEST_SPARK = SparkConfig(
    master="local[2]",
    app_name="energy-anomaly-tests",
    driver_memory="4g",
    shuffle_partitions=4,
    ui=False,
    conf={"spark.databricks.delta.snapshotPartitions": 1, "spark.sql.adaptive.coalescePartitions.enabled": "true"},
)


@pytest.fixture(scope="session")
def spark():
    from energy_anomaly.session import build_session

    session = build_session(TEST_SPARK)
    yield session
    session.stop()


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    return str(tmp_path / "warehouse")


@pytest.fixture(scope="session")
def shared_lcl() -> Path:
    if not (SHARED_LCL / "halfhourly_2013").is_dir():
        pytest.skip(f"{SHARED_LCL} is not on this machine (it is in CI and on developer machines)")
    return SHARED_LCL
