"""The pipeline through spark-submit on a real standalone cluster (a master and two workers on
127.0.0.1) gives the same tables as the embedded local run of the same input and settings.

The code reaches driver and executors only as the zip on --py-files: their Python has the pinned
dependencies but not this package (tests/standalone.py, dependencies_env)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from energy_anomaly.config import REPO_ROOT, load_config
from energy_anomaly.deploy import package_zip, submit_command
from energy_anomaly.tables import read_table
from tests.conftest import SAMPLE_DIR
from tests.standalone import SPARK_HOME, StandaloneCluster, dependencies_env, spark_env

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.cluster]

# The settings of the `scored` fixture (tests/conftest.py), the local-mode reference.
SCORED_TRAINING = {"per_stratum": 400, "seed": 3, "epochs": 2, "threshold_quantile": 0.99}
SCORED_HOUSEHOLDS = [str(SAMPLE_DIR / "halfhourly_2013" / f"MAC00000{i}.csv.gz") for i in (2, 3, 4, 5)]


def cluster_config(tmp_path: Path) -> Path:
    """conf/cluster.yaml with the reference run's training settings."""
    document = yaml.safe_load((REPO_ROOT / "conf" / "cluster.yaml").read_text())
    document["train"].update(SCORED_TRAINING, start="2013-01-01", end="2013-08-31")
    document["score"].update(start="2013-09-01", end="2013-12-31")
    document["clean"]["max_gap_slots"] = 4
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory) -> tuple[str, list[subprocess.Popen]]:
    """The run on the cluster: its warehouse, and the cluster's processes (stopped by now)."""
    tmp_path = tmp_path_factory.mktemp("cluster")
    warehouse = str(tmp_path / "warehouse")
    config = cluster_config(tmp_path)
    python = dependencies_env(tmp_path / "node-env")
    archive = package_zip(tmp_path / "dist")
    job_args = [
        "--config",
        str(config),
        "--warehouse",
        warehouse,
        "--households",
        str(SAMPLE_DIR / "informations_households.csv.gz"),
        "--train",
    ]
    for path in SCORED_HOUSEHOLDS:
        job_args += ["--input", path]
    with StandaloneCluster(tmp_path / "cluster", workers=2) as cluster:
        assert cluster.state()["aliveworkers"] == 2
        argv = submit_command(
            "run",
            job_args,
            master=cluster.master_url,
            py_files=archive,
            delta_package=load_config(config).spark.delta_package,
            python=str(python),
            spark_submit=str(SPARK_HOME / "bin" / "spark-submit"),
            # Test-sized: a few shuffle partitions and Delta snapshot partitions for 4 households.
            conf={
                "spark.executor.memory": "1g",
                "spark.cores.max": "2",
                "spark.sql.shuffle.partitions": "8",
                "spark.databricks.delta.snapshotPartitions": "2",
            },
        )
        done = subprocess.run(argv, cwd=REPO_ROOT, env=spark_env(), capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, (
            f"spark-submit failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}\n{cluster.logs()}"
        )
        assert cluster.state()["completedapps"], "the job did not run on the cluster"
        executors = {app["cores"] for app in cluster.state()["completedapps"]}
    assert executors == {2}, "the application should have held both workers' cores"
    assert "score: 488 household-days x 4 models" in done.stdout
    return warehouse, cluster.processes


@pytest.fixture(scope="module")
def cluster_warehouse(cluster_run) -> str:
    return cluster_run[0]


def test_the_cluster_processes_are_stopped(cluster_run):
    _, processes = cluster_run
    assert len(processes) == 3  # the master and two workers
    assert all(process.poll() is not None for process in processes)
    for process in processes:
        with pytest.raises(ProcessLookupError):
            os.kill(process.pid, 0)


@pytest.mark.parametrize("table", ["bronze/readings", "silver/readings", "silver/daily"])
def test_cluster_data_tables_equal_local_mode(spark, scored, cluster_warehouse, table):
    local, _, _ = scored
    assertDataFrameEqual(read_table(spark, cluster_warehouse, table), read_table(spark, local, table))


def test_cluster_features_equal_local_mode(spark, scored, cluster_warehouse):
    local, _, _ = scored
    assertDataFrameEqual(
        read_table(spark, cluster_warehouse, "gold/features"), read_table(spark, local, "gold/features"), rtol=1e-9
    )


def test_cluster_scores_equal_local_mode(spark, scored, cluster_warehouse):
    """Same training sample, seeds and single-threaded TensorFlow: the same models, so the same
    version, scores, thresholds and flags."""
    local, trained, _ = scored
    cluster_scores = read_table(spark, cluster_warehouse, "gold/anomaly_scores")
    local_scores = read_table(spark, local, "gold/anomaly_scores")
    assert {r.model_version for r in cluster_scores.select("model_version").distinct().collect()} == {trained.version}
    assertDataFrameEqual(cluster_scores, local_scores, rtol=1e-6)
    flagged = lambda scores: scores.where(F.col("is_anomaly")).select("household_id", "day", "model")  # noqa: E731
    assertDataFrameEqual(flagged(cluster_scores), flagged(local_scores))
    assertDataFrameEqual(
        read_table(spark, cluster_warehouse, "gold/anomalies"), read_table(spark, local, "gold/anomalies"), rtol=1e-6
    )
