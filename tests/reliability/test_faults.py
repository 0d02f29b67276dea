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
from energy_anomaly.tables import read_table, table_version
from tests.conftest import SAMPLE_DIR, SCORED_END, SCORED_START
from tests.reliability.conftest import cli, cli_config, killed_when

pytestmark = [pytest.mark.spark, pytest.mark.slow]

READINGS = SAMPLE_DIR / "halfhourly_2013"
# A third of the sample: enough files that a write spans several data files and two writers
# overlap, few enough that each of the ingests here costs mostly its JVM start.
FILES = sorted(READINGS.glob("*.csv.gz"))[:10]
HOUSEHOLDS = SAMPLE_DIR / "informations_households.csv.gz"
BRONZE = ("bronze/readings", "bronze/quarantine", "silver/households")


def assert_same_rows(got, want, table: str) -> None:
    """The same rows, duplicates counted (``exceptAll`` both ways)."""
    assert got.exceptAll(want).count() == 0 and want.exceptAll(got).count() == 0, table


def assert_same_tables(spark, actual: str, expected: str, tables=BRONZE) -> None:
    for table in tables:
        got, want = read_table(spark, actual, table), read_table(spark, expected, table)
        if "source_file" in got.columns:  # the same files, read from the same place
            got, want = got.drop("source_file"), want.drop("source_file")
        assert_same_rows(got, want, table)


def assert_tables_as_of(spark, warehouse: Path, versions: dict[str, int]) -> None:
    """Each table equals itself at ``versions`` (Delta's time travel): what the clean run wrote."""
    for table, version in versions.items():
        path = str(warehouse / table)
        got = spark.read.format("delta").load(path)
        want = spark.read.format("delta").option("versionAsOf", version).load(path)
        assert_same_rows(got, want, table)


def parquet_files(table: Path) -> set[Path]:
    return set(table.glob("*.parquet")) | set(table.glob("*/*.parquet"))


def error_lines(outputs: list[str]) -> list[list[str]]:
    """Each process's last error lines (the one-line reason of an exit 2), for an assertion's message."""
    return [[line for line in o.splitlines() if "error" in line.lower()][-3:] for o in outputs]


def test_driver_killed_mid_write_then_rerun_equals_a_clean_run(spark, tmp_path):
    victim = tmp_path / "victim"
    files = [str(f) for f in FILES]
    run_ingest(spark, str(victim), files, [str(HOUSEHOLDS)], 12.0)  # the clean run
    clean = {table: table_version(spark, str(victim / table)) for table in BRONZE}
    committed = parquet_files(victim / "bronze" / "readings")
    # The same ingest again, from the CLI (it replaces the files' rows), killed -9 as soon as it
    # writes a data file: its own driver and JVM, no clean-up.
    args = ("ingest", "--config", str(cli_config(tmp_path)), "--warehouse", str(victim))
    process = cli(
        *args,
        *[a for f in files for a in ("--input", f)],
        "--households",
        str(HOUSEHOLDS),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def wrote() -> bool:
        return bool(parquet_files(victim / "bronze" / "readings") - committed)

    assert killed_when(process, wrote, seconds=240, poll=0.02), (
        "the ingest finished before it could be killed mid-write"
    )
    run_ingest(spark, str(victim), files, [str(HOUSEHOLDS)], 12.0)  # run again
    assert_tables_as_of(spark, victim, clean)


def python_workers() -> dict[int, tuple[int, int]]:
    """pid -> (resident kB, CPU ticks so far) of this session's forked PySpark workers: the
    children of a ``pyspark.daemon`` process that descends from this test process. The other
    xdist process has its own JVM, daemon and workers, busy with its own tests: never kill those."""
    parents, daemons, usage = {}, set(), {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            status = (entry / "status").read_text()
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[pid] = int(fields["PPid"])
        if b"pyspark.daemon" in cmdline:
            daemons.add(pid)
        usage[pid] = (int(fields.get("VmRSS", "0 kB").split()[0]), int(stat[11]) + int(stat[12]))  # utime + stime

    def ours(pid: int) -> bool:
        while pid > 1:
            if pid == os.getpid():
                return True
            pid = parents.get(pid, 0)
        return False

    own_daemons = {pid for pid in daemons if ours(pid)}
    return {pid: use for pid, use in usage.items() if parents[pid] in own_daemons}


def running_worker() -> int | None:
    """The worker using the CPU now (during a score: scoring), not one idling between jobs
    (workers are reused)."""
    first = python_workers()
    time.sleep(0.1)
    second = python_workers()
    busy = {pid: second[pid][1] - first[pid][1] for pid in second if pid in first}
    pid = max(busy, key=busy.get, default=None)
    return pid if pid is not None and busy[pid] > 0 else None


def test_a_python_worker_killed_mid_score_is_retried_and_the_scores_are_complete(spark, scored):
    warehouse, trained, _ = scored
    before = read_table(spark, warehouse, "gold/anomaly_scores").toPandas()
    outcome: dict = {}

    def score():
        try:
            outcome["result"] = run_score(spark, warehouse, trained.path, start=SCORED_START, end=SCORED_END)
        except Exception as exc:  # reported below
            outcome["error"] = exc

    # Idle workers from earlier jobs already hold the bundle and would score in a moment: end them
    # first, so this job's tasks start new workers and spend a while importing and loading in-task.
    for pid in python_workers():
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    thread = threading.Thread(target=score)
    tracker = spark.sparkContext.statusTracker()
    thread.start()
    kills, stages = 0, set()

    def failed_tasks() -> int:
        infos = [tracker.getStageInfo(i) for i in stages]
        return sum(info.numFailedTasks for info in infos if info is not None)

    # Kill the busy worker until Spark reports a failed task (the kill hit a running one).
    while thread.is_alive() and failed_tasks() == 0 and kills < 5:
        stages.update(tracker.getActiveStageIds())
        pid = running_worker()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            kills += 1
            time.sleep(0.5)
            stages.update(tracker.getActiveStageIds())
    thread.join(timeout=600)
    assert failed_tasks() > 0, f"no task failed after {kills} worker kill(s): no kill hit a running task"
    assert "error" not in outcome, outcome.get("error")
    after = read_table(spark, warehouse, "gold/anomaly_scores")
    assertDataFrameEqual(after, spark.createDataFrame(before, after.schema), rtol=1e-6)


def test_two_ingests_of_different_files_into_one_warehouse_both_land(spark, tmp_path):
    config = str(cli_config(tmp_path))
    halves = (FILES[: len(FILES) // 2], FILES[len(FILES) // 2 :])
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
    assert [p.returncode for p in processes] == [0, 0], error_lines(outputs)
    clean = str(tmp_path / "clean")
    run_ingest(spark, clean, [str(f) for f in FILES], None, 12.0)
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
    assert [p.returncode for p in processes] == [0, 0], error_lines(outputs)
    after = read_table(spark, warehouse, "gold/anomaly_scores")
    assertDataFrameEqual(after, spark.createDataFrame(before, after.schema), rtol=1e-6)
