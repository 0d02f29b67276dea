"""Faults and concurrency on real runs: the driver killed mid-write, a Python worker killed
mid-score, and two writers of one table at once. Each ends with the tables a clean run writes."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from energy_anomaly.ingest.stage import run_ingest
from energy_anomaly.scoring.stage import run_score
from energy_anomaly.tables import read_table
from tests.conftest import SAMPLE_DIR, SCORED_END, SCORED_START
from tests.reliability.conftest import cli, cli_argv, cli_config

pytestmark = [pytest.mark.spark, pytest.mark.slow]

READINGS = SAMPLE_DIR / "halfhourly_2013"
HOUSEHOLDS = SAMPLE_DIR / "informations_households.csv.gz"
BRONZE = ("bronze/readings", "bronze/quarantine", "silver/households")


def assert_same_tables(spark, actual: str, expected: str, tables=BRONZE) -> None:
    for table in tables:
        got, want = read_table(spark, actual, table), read_table(spark, expected, table)
        if "source_file" in got.columns:  # the same files, read from the same place
            got, want = got.drop("source_file"), want.drop("source_file")
        assert got.exceptAll(want).count() == 0 and want.exceptAll(got).count() == 0, table


def parquet_files(table: Path) -> set[Path]:
    return set(table.glob("*.parquet")) | set(table.glob("*/*.parquet"))


def run_cli(*args: str, timeout: int = 300) -> None:
    finished = subprocess.run(cli_argv(*args), capture_output=True, text=True, timeout=timeout)
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr[-2000:]


def test_driver_killed_mid_write_then_rerun_equals_a_clean_run(spark, tmp_path):
    config = str(cli_config(tmp_path))
    clean, victim = str(tmp_path / "clean"), tmp_path / "victim"
    run_ingest(spark, clean, [str(READINGS)], [str(HOUSEHOLDS)], 12.0)
    args = (
        "ingest",
        "--config",
        config,
        "--warehouse",
        str(victim),
        "--input",
        str(READINGS),
        "--households",
        str(HOUSEHOLDS),
    )
    run_cli(*args)
    committed = parquet_files(victim / "bronze" / "readings")
    # The same ingest again (it replaces the files' rows), killed -9 as soon as it writes a data file.
    process = cli(*args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline, killed = time.monotonic() + 240, False
    while time.monotonic() < deadline and process.poll() is None:
        if parquet_files(victim / "bronze" / "readings") - committed:
            os.killpg(process.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.02)
    process.wait(timeout=60)
    assert killed, "the ingest finished before it could be killed mid-write"
    run_cli(*args)
    assert_same_tables(spark, str(victim), clean)


def python_workers() -> list[tuple[int, int]]:
    """(pid, resident kB) of the forked PySpark workers: children of a ``pyspark.daemon`` process."""
    daemons, parents = set(), {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"pyspark.daemon" in (entry / "cmdline").read_bytes():
                daemons.add(int(entry.name))
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss = int(fields.get("VmRSS", "0 kB").split()[0])
        parents[int(entry.name)] = (int(fields["PPid"]), rss)
    return [(pid, rss) for pid, (ppid, rss) in parents.items() if ppid in daemons]


def test_a_python_worker_killed_mid_score_is_retried_and_the_scores_are_complete(spark, scored):
    warehouse, trained, _ = scored
    before = read_table(spark, warehouse, "gold/anomaly_scores").toPandas()
    outcome: dict = {}

    def score():
        try:
            outcome["result"] = run_score(spark, warehouse, trained.path, start=SCORED_START, end=SCORED_END)
        except Exception as exc:  # reported below
            outcome["error"] = exc

    thread = threading.Thread(target=score)
    thread.start()
    killed = None
    while thread.is_alive() and killed is None:
        # A worker that has loaded TensorFlow and the bundle is inside the scoring UDF.
        busy = [pid for pid, rss in python_workers() if rss > 300_000]
        if busy:
            os.kill(busy[0], signal.SIGKILL)
            killed = busy[0]
        time.sleep(0.05)
    thread.join(timeout=600)
    assert killed is not None, "scoring finished before a worker could be killed"
    assert "error" not in outcome, outcome.get("error")
    after = read_table(spark, warehouse, "gold/anomaly_scores")
    assertDataFrameEqual(after, spark.createDataFrame(before, after.schema), rtol=1e-6)


def test_two_ingests_of_different_files_into_one_warehouse_both_land(spark, tmp_path):
    config = str(cli_config(tmp_path))
    files = sorted(READINGS.glob("*.csv.gz"))
    halves = (files[: len(files) // 2], files[len(files) // 2 :])
    warehouse = str(tmp_path / "shared")
    processes = [
        cli(
            "ingest",
            "--config",
            config,
            "--warehouse",
            warehouse,
            *[a for f in half for a in ("--input", str(f))],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for half in halves
    ]
    outputs = [p.communicate(timeout=400)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [o[-1500:] for o in outputs]
    clean = str(tmp_path / "clean")
    run_ingest(spark, clean, [str(READINGS)], None, 12.0)
    assert_same_tables(spark, warehouse, clean, tables=("bronze/readings", "bronze/quarantine"))


def test_two_scores_of_one_period_at_once_both_complete(spark, scored, tmp_path):
    warehouse, trained, _ = scored
    config = str(cli_config(tmp_path))
    before = read_table(spark, warehouse, "gold/anomaly_scores").toPandas()
    argv = (
        "score",
        "--config",
        config,
        "--warehouse",
        warehouse,
        "--model",
        trained.path,
        "--start",
        str(SCORED_START),
        "--end",
        str(SCORED_END),
    )
    processes = [cli(*argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [o[-1500:] for o in outputs]
    after = read_table(spark, warehouse, "gold/anomaly_scores")
    assertDataFrameEqual(after, spark.createDataFrame(before, after.schema), rtol=1e-6)
