"""One session-scoped, Delta-enabled Spark for every Spark test (UTC, Arrow on, UI off)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import os
import pickle
import shutil
from pathlib import Path

import pytest

from energy_anomaly.config import REPO_ROOT, SparkConfig

SAMPLE_DIR = REPO_ROOT / "data" / "lcl_sample"
SHARED_LCL = REPO_ROOT.parent / "shared" / "data" / "lcl"
WEATHER = str(SAMPLE_DIR / "weather_daily_darksky.csv.gz")
SCORED_START, SCORED_END = dt.date(2013, 9, 1), dt.date(2013, 12, 31)

TEST_SPARK = SparkConfig(
    master="local[2,3]",
    app_name="energy-anomaly-tests",
    driver_memory="4g",
    shuffle_partitions=4,
    ui=False,
    conf={"spark.databricks.delta.snapshotPartitions": 1, "spark.sql.adaptive.coalescePartitions.enabled": "true"},
)


def pytest_collection_modifyitems(config, items):
    """The longest files first: those that start a cluster or a Connect server, then those with
    slow tests, then the rest (each file's tests in their own order). ``./bootstrap test`` hands
    whole files to two processes in this order (``--no-loadscope-reorder``; xdist's own order puts
    the files with the most tests first, which left a cluster's or the wheel's minutes for one
    process at the end while the other had nothing left)."""

    def tier(path) -> int:
        markers = {m.name for item in by_file[path] for m in item.iter_markers()}
        return 0 if markers & {"cluster", "connect"} else 1 if "slow" in markers else 2

    by_file: dict = {}
    for item in items:
        by_file.setdefault(item.path, []).append(item)
    items[:] = [item for path in sorted(by_file, key=tier) for item in by_file[path]]


@pytest.fixture(scope="session")
def spark():
    from energy_anomaly.session import build_session

    session = build_session(TEST_SPARK)
    yield session
    session.stop()


@pytest.fixture(autouse=True)
def no_mlflow_store_from_elsewhere(monkeypatch):
    """``mlflow.set_tracking_uri`` (a notebook's way, in some tests) sets MLFLOW_TRACKING_URI for
    the process: each test starts without it, so every warehouse uses its own embedded store, and
    what a test set goes with it (monkeypatch restores only variables that existed before, and a
    module fixture set up before the next test would otherwise see that test's store)."""
    from energy_anomaly.registry.store import URI_VARIABLES

    for name in URI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield
    for name in URI_VARIABLES:
        os.environ.pop(name, None)


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    return str(tmp_path / "warehouse")


@pytest.fixture(scope="session")
def shared_lcl() -> Path:
    if not (SHARED_LCL / "halfhourly_2013").is_dir():
        pytest.skip(f"{SHARED_LCL} is not on this machine (it is in CI and on developer machines)")
    return SHARED_LCL


@pytest.fixture(scope="session")
def scored(spark, tmp_path_factory):
    """ingest -> clean -> features -> train -> score on 4 real households of the sample (shared by
    the scoring and evaluation tests: training is the slow part).

    Under ``./bootstrap test`` it is built once for both test processes, in the folder they share,
    and each process gets its own copy (several tests write into it): the second process would
    otherwise spend its minutes building the same tables beside the first."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return build_scored(spark, str(tmp_path_factory.mktemp("pipeline") / "warehouse"))
    shared = tmp_path_factory.getbasetemp().parent
    built = shared / "scored"
    with open(shared / "scored.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other process waits while the first one builds
        if not (built / "results.pickle").is_file():
            shutil.rmtree(built, ignore_errors=True)  # what a failed build in the other process left
            results = build_scored(spark, str(built / "warehouse"))
            (built / "results.pickle").write_bytes(pickle.dumps(results[1:]))
    trained, result = pickle.loads((built / "results.pickle").read_bytes())
    warehouse = tmp_path_factory.mktemp("pipeline") / "warehouse"
    shutil.copytree(built / "warehouse", warehouse)
    # The bundle's path is the one absolute path in it (Delta's logs name their files relatively).
    moved = str(warehouse / Path(trained.path).relative_to(built / "warehouse"))
    return str(warehouse), dataclasses.replace(trained, path=moved), result


def build_scored(spark, warehouse: str) -> tuple:
    from energy_anomaly.clean.stage import run_clean
    from energy_anomaly.features.stage import run_features
    from energy_anomaly.ingest.stage import run_ingest
    from energy_anomaly.scoring.stage import run_score
    from energy_anomaly.training.stage import run_train

    files = [str(SAMPLE_DIR / "halfhourly_2013" / f"MAC00000{i}.csv.gz") for i in (2, 3, 4, 5)]
    run_ingest(spark, warehouse, files, [str(SAMPLE_DIR / "informations_households.csv.gz")], 12.0)
    run_clean(spark, warehouse, 4)
    run_features(spark, warehouse, str(SAMPLE_DIR / "uk_bank_holidays.csv"), WEATHER)
    trained = run_train(
        spark,
        warehouse,
        start=dt.date(2013, 1, 1),
        end=dt.date(2013, 8, 31),
        per_stratum=400,
        seed=3,
        threshold_quantile=0.99,
        epochs=2,
    )
    result = run_score(spark, warehouse, trained.path, start=SCORED_START, end=SCORED_END)
    return warehouse, trained, result


def label_top_ensemble_days(spark, warehouse: str, n: int, path: str) -> str:
    """Labels (as ``inject`` writes them) for the ``n`` highest-scored ensemble days of ``warehouse``,
    all ``h1``: an evaluation with catches, for tests of what reads gold/metrics."""
    from pyspark.sql import functions as F

    from energy_anomaly import catalog
    from energy_anomaly.tables import read_table

    scores = read_table(spark, warehouse, catalog.GOLD_SCORES).where(F.col("model") == catalog.ENSEMBLE)
    rows = [(r.household_id, r.day, "h1", "{}", 1) for r in scores.orderBy(F.desc("score")).limit(n).collect()]
    spark.createDataFrame(rows, catalog.LABELS).write.format("delta").save(path)
    return path
