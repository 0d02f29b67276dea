"""The pipeline through Spark Connect, as Databricks serverless and standard access mode run
Python: the CLI talks to a Spark Connect server on 127.0.0.1 (``spark.remote`` in the config), with
no SparkContext and no JVM in its own process. Its tables equal the embedded local run's of the
same input and settings, and a daily update and maintenance run through it too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from energy_anomaly.config import REPO_ROOT
from energy_anomaly.tables import read_table
from tests.conftest import SAMPLE_DIR
from tests.standalone import ConnectServer

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.connect]

# The `scored` fixture's settings (tests/conftest.py), the local-mode reference.
SCORED_TRAINING = {"per_stratum": 400, "seed": 3, "epochs": 2, "threshold_quantile": 0.99}
SCORED_HOUSEHOLDS = [str(SAMPLE_DIR / "halfhourly_2013" / f"MAC00000{i}.csv.gz") for i in (2, 3, 4, 5)]
REFERENCE = ["MAC000002", "MAC000003", "MAC000004", "MAC000005"]
LANDED = SAMPLE_DIR / "halfhourly_2013" / "MAC000006.csv.gz"


def cli(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_GATEWAY", "SPARK_REMOTE", "MLFLOW_"))}
    done = subprocess.run(
        [sys.executable, "-m", "energy_anomaly", *argv, "-v"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    (tmp_path / f"{argv[0]}.log").write_text(done.stdout + done.stderr)  # -v: Spark's and Python's traces
    return done


@pytest.fixture(scope="module")
def connect_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("connect")
    warehouse = str(tmp_path / "warehouse")
    landing = tmp_path / "landing"
    landing.mkdir()
    with ConnectServer(tmp_path / "server") as server:
        document = yaml.safe_load((REPO_ROOT / "conf" / "local.yaml").read_text())
        document["spark"].update(remote=server.url, shuffle_partitions=4)
        document["train"].update(SCORED_TRAINING, start="2013-01-01", end="2013-08-31")
        document["score"].update(start="2013-09-01", end="2013-12-31")
        document["features"]["bank_holidays"] = str(SAMPLE_DIR / "uk_bank_holidays.csv")
        config = tmp_path / "connect.yaml"
        config.write_text(yaml.safe_dump(document))
        # Relative paths, as a user types them: relative to the command's directory, not the
        # server's (which runs elsewhere).
        common = ["--config", str(config), "--warehouse", "warehouse"]
        households = ["--households", str(SAMPLE_DIR / "informations_households.csv.gz")]
        inputs = [a for path in SCORED_HOUSEHOLDS for a in ("--input", path)]
        run = cli(tmp_path, "run", *common, *households, *inputs, "--train")
        assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-6000:]}\n{server.logs()[-3000:]}"
        shutil.copy(LANDED, landing / LANDED.name)
        update = cli(tmp_path, "update", *common, "--input", landing.name)
        assert update.returncode == 0, f"{update.stdout[-3000:]}\n{update.stderr[-6000:]}"
        again = cli(tmp_path, "update", *common, "--input", landing.name)
        maintain = cli(tmp_path, "maintain", *common, "--table", "gold/anomaly_scores")
    return warehouse, run, update, again, maintain


def test_the_run_goes_through_spark_connect(connect_run):
    _, run, update, again, maintain = connect_run
    assert "score: 488 household-days x 4 models" in run.stdout
    assert "update:" in update.stdout and "MAC000006" not in update.stderr
    assert again.returncode == 0 and "nothing new" in again.stdout, again.stdout + again.stderr
    assert maintain.returncode == 0 and "gold/anomaly_scores: OPTIMIZE" in maintain.stdout, maintain.stderr[-2000:]


@pytest.mark.parametrize("table", ["bronze/readings", "silver/readings", "silver/daily", "gold/features"])
def test_connect_data_tables_equal_local_mode(spark, scored, connect_run, table):
    local, _, _ = scored
    reference = F.col("household_id").isin(REFERENCE)
    ours = read_table(spark, connect_run[0], table).where(reference)
    assertDataFrameEqual(ours, read_table(spark, local, table), rtol=1e-9)


def test_connect_scores_equal_local_mode_and_the_update_scored_the_landed_household(spark, scored, connect_run):
    local, trained, _ = scored
    scores = read_table(spark, connect_run[0], "gold/anomaly_scores")
    assert {r.model_version for r in scores.select("model_version").distinct().collect()} == {trained.version}
    assertDataFrameEqual(
        scores.where(F.col("household_id").isin(REFERENCE)), read_table(spark, local, "gold/anomaly_scores"), rtol=1e-6
    )
    assert scores.where(F.col("household_id") == "MAC000006").count() > 0
