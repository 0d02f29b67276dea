"""The daily mode: drops applied with ``update`` (and one by one as they land, with its stream)
leave the tables one batch run over all the files writes, also when the last update is killed
mid-way and run again.

The drops are real readings of three sample households, cut by day: two months of history (one
household stops three weeks early and comes back later: a long gap), then daily files, a re-sent
day with corrected (higher) values, and a household silver/households does not list.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import subprocess
import threading
import time
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from energy_anomaly import catalog
from energy_anomaly.clean.stage import run_clean
from energy_anomaly.config import Config, FeaturesConfig
from energy_anomaly.features.stage import run_features
from energy_anomaly.ingest.stage import run_ingest
from energy_anomaly.scoring.stage import run_score
from energy_anomaly.tables import read_table, read_table_or_empty, table_path, table_version
from tests.conftest import SAMPLE_DIR, TEST_SPARK, WEATHER
from tests.reliability.conftest import cli, cli_config, killed_when

pytestmark = [pytest.mark.spark, pytest.mark.slow]

HOUSEHOLDS = ("MAC000002", "MAC000003", "MAC000004")
HEADER = "LCLid,tstp,energy(kWh/hh)\n"
HISTORY = (dt.date(2013, 6, 1), dt.date(2013, 7, 31))
AWAY = (dt.date(2013, 7, 10), dt.date(2013, 8, 2))  # MAC000004 sends nothing on these days
DAYS = [dt.date(2013, 8, d) for d in (1, 2, 3)]
RESENT = dt.date(2013, 7, 15)
BANK_HOLIDAYS = str(SAMPLE_DIR / "uk_bank_holidays.csv")
COMPARED = (
    catalog.BRONZE_READINGS,
    catalog.SILVER_READINGS,
    catalog.SILVER_DAILY,
    catalog.GOLD_FEATURES,
    catalog.GOLD_SCORES,
    catalog.GOLD_ANOMALIES,
)


def real_lines(household: str) -> list[tuple[dt.date, str]]:
    with gzip.open(SAMPLE_DIR / "halfhourly_2013" / f"{household}.csv.gz", "rt") as f:
        next(f)
        return [(dt.date.fromisoformat(line.split(",")[1][:10]), line) for line in f]


def drops() -> list[dict[str, str]]:
    """The drops in landing order: each a mapping of file name -> contents."""
    lines = {h: real_lines(h) for h in HOUSEHOLDS}

    def day_lines(day, households=HOUSEHOLDS):
        away = lambda h: h == "MAC000004" and AWAY[0] <= day <= AWAY[1]  # noqa: E731
        return [line for h in households if not away(h) for d, line in lines[h] if d == day]

    history = [
        line
        for h in HOUSEHOLDS
        for d, line in lines[h]
        if HISTORY[0] <= d <= HISTORY[1] and not (h == "MAC000004" and AWAY[0] <= d <= AWAY[1])
    ]
    corrected = [
        f"{h},{ts},{float(kwh) + 0.5:.3f}\n"
        for d, line in lines["MAC000002"]
        if d == RESENT
        for h, ts, kwh in [line.strip().split(",")]
    ]
    stranger = [line.replace("MAC000003", "MAC999999") for line in day_lines(DAYS[2], ("MAC000003",))]
    return [
        {"history.csv": HEADER + "".join(history)},
        {f"{DAYS[0]}.csv": HEADER + "".join(day_lines(DAYS[0]))},
        {f"{DAYS[1]}.csv": HEADER + "".join(day_lines(DAYS[1])), "resent-2013-07-15.csv": HEADER + "".join(corrected)},
        {f"{DAYS[2]}.csv": HEADER + "".join(day_lines(DAYS[2]) + stranger)},
    ]


def land(landing: Path, files: dict[str, str]) -> None:
    """The landing rule: write under a hidden name, then rename into place."""
    landing.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        partial = landing / f".{name}.partial"
        partial.write_text(text)
        partial.rename(landing / name)


def config_for(warehouse: str) -> Config:
    return Config(
        warehouse=warehouse, spark=TEST_SPARK, features=FeaturesConfig(bank_holidays=BANK_HOLIDAYS, weather=WEATHER)
    )


@pytest.fixture(scope="module")
def model(scored):
    return scored[1].path


@pytest.fixture(scope="module")
def batch(spark, tmp_path_factory, model):
    """One batch run over every drop's files (landed in one folder, so rows name the same files)."""
    root = tmp_path_factory.mktemp("batch")
    landing = root / "landing"
    for drop in drops():
        land(landing, drop)
    warehouse = str(root / "warehouse")
    run_ingest(spark, warehouse, [str(landing)], [str(SAMPLE_DIR / "informations_households.csv.gz")], 12.0)
    run_clean(spark, warehouse, 4)
    run_features(spark, warehouse, BANK_HOLIDAYS, WEATHER)
    run_score(spark, warehouse, model, start=HISTORY[0], end=DAYS[-1])
    return warehouse


def start_warehouse(spark, root: Path) -> str:
    """A warehouse with the household information only (as a utility starts)."""
    warehouse = str(root / "warehouse")
    run_ingest(spark, warehouse, [], [str(SAMPLE_DIR / "informations_households.csv.gz")], 12.0)
    return warehouse


def comparable(spark, warehouse: str, table):
    """The table's rows; bronze's files by name (the two runs land them in different folders)."""
    rows = read_table(spark, warehouse, table)
    if "source_file" in rows.columns:
        rows = rows.withColumn("source_file", F.regexp_extract("source_file", r"[^/]+$", 0))
    return rows


def assert_same_tables(spark, warehouse: str, reference: str) -> None:
    for table in COMPARED:
        ours, theirs = comparable(spark, warehouse, table), comparable(spark, reference, table)
        assert ours.count() == theirs.count(), table.name
        assert ours.exceptAll(theirs).count() == 0, f"{table.name}: rows the batch run does not have"
        assert theirs.exceptAll(ours).count() == 0, f"{table.name}: rows missing against the batch run"


def test_daily_drops_and_a_killed_update_run_again_equal_one_batch_run(spark, tmp_path, batch, model, capsys):
    """The history and the first day in one update (a backlog), the next day with a re-sent one,
    then the last day by an update killed mid-way (the driver, by process id) and run again from
    its checkpoint. (The stream test applies every drop on its own.)"""
    from energy_anomaly.commands.update import update

    warehouse = start_warehouse(spark, tmp_path)
    landing = tmp_path / "landing"
    config = config_for(warehouse)
    history, first_day, second_day, last = drops()
    for drops_landed in ((history, first_day), (second_day,)):
        for drop in drops_landed:
            land(landing, drop)
        (result,) = update(config, str(landing), model=model)
        assert result.score.days > 0

    land(landing, last)
    silver = Path(table_path(warehouse, catalog.SILVER_READINGS)) / "_delta_log"
    commits = set(silver.glob("*.json"))
    args = ("update", "--config", str(cli_config(tmp_path)), "--warehouse", warehouse)
    process = cli(
        *args,
        "--input",
        str(landing),
        "--model",
        str(model),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Killed once bronze and silver are written, the rest not yet.
    killed = killed_when(process, lambda: bool(set(silver.glob("*.json")) - commits), seconds=300)
    assert killed, "the update finished before it could be killed mid-way"
    capsys.readouterr()
    (result,) = update(config, str(landing), model=model)  # the same batch, run again from its checkpoint
    assert result.ingest.files == 1
    assert "1 household(s) not in silver/households (e.g. MAC999999)" in capsys.readouterr().out
    assert_same_tables(spark, warehouse, batch)

    # The re-sent day replaced its household's day: the larger values won (the duplicate rule).
    day = read_table(spark, warehouse, catalog.SILVER_DAILY).where(
        (F.col("household_id") == "MAC000002") & (F.col("day") == F.lit(RESENT))
    )
    assert day.first()["n_observed"] == 48

    # Nothing new: said so, and no table gets a commit.
    versions = {t.name: table_version(spark, table_path(warehouse, t)) for t in COMPARED}
    assert update(config, str(landing), model=model) == []
    assert "nothing new" in capsys.readouterr().out
    assert versions == {t.name: table_version(spark, table_path(warehouse, t)) for t in COMPARED}


def test_the_stream_applies_drops_as_they_land_and_equals_one_batch_run(spark, tmp_path, batch, model):
    """The long-running mode (processing-time trigger): drops land while it runs. It is asked to
    stop while the last drop's batch runs (as SIGTERM or Ctrl-C ask): that batch is committed
    first, so no file is left to be applied again."""
    from energy_anomaly.commands.update import update

    warehouse = start_warehouse(spark, tmp_path)
    landing = tmp_path / "landing"
    landing.mkdir()
    config = config_for(warehouse)
    results: list = []
    stop = threading.Event()
    runner = threading.Thread(
        target=lambda: results.extend(update(config, str(landing), every_seconds=1, model=model, stop=stop)),
        daemon=True,
    )
    runner.start()
    *first, last = drops()
    for drop in first:
        # A file still being written (hidden name) is not read, even when the stream looks.
        (landing / ".half-written.csv.partial").write_text(HEADER + "MAC000002,2013-08-09 00:00:00, 0.1")
        land(landing, drop)
        wait_for(lambda: stream_caught_up(spark, warehouse, landing), runner)
    land(landing, last)
    wait_for(lambda: batch_in_progress(warehouse), runner, poll=0.05)
    stop.set()
    runner.join(timeout=300)
    assert not runner.is_alive(), "the update did not stop"
    assert not spark.streams.active
    assert len(results) >= len(drops())
    assert stream_caught_up(spark, warehouse, landing), "the batch in progress was cut off, not committed"
    assert_same_tables(spark, warehouse, batch)


def wait_for(done, runner: threading.Thread, seconds: float = 300, poll: float = 0.5) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert runner.is_alive(), "the update stream stopped"
        assert time.monotonic() < deadline, f"not done within {seconds} s"
        time.sleep(poll)


def batches_of(warehouse: str) -> tuple[set[str], set[str]]:
    """The stream's batches started (offset log) and committed (commit log)."""
    checkpoint = next(Path(table_path(warehouse, "checkpoints")).glob("update-*"), None)
    if checkpoint is None:
        return set(), set()
    started, committed = (
        {p.name for p in (checkpoint / d).glob("*") if p.name.isdigit()} for d in ("offsets", "commits")
    )
    return started, committed


def batch_in_progress(warehouse: str) -> bool:
    started, committed = batches_of(warehouse)
    return bool(started - committed)


def stream_caught_up(spark, warehouse: str, landing: Path) -> bool:
    """Every landed file is in bronze and every batch the stream started is committed."""
    started, committed = batches_of(warehouse)
    if not started or started != committed:
        return False
    files = {p.name for p in landing.iterdir() if not p.name.startswith(".")}
    bronze = read_table_or_empty(spark, warehouse, catalog.BRONZE_READINGS).select("source_file").distinct().collect()
    return files == {row["source_file"].rsplit("/", 1)[1] for row in bronze}


def test_update_refuses_what_it_cannot_apply(spark, tmp_path, model, capsys):
    from energy_anomaly.commands.update import update
    from energy_anomaly.errors import EnergyAnomalyError, InputFileError

    warehouse = start_warehouse(spark, tmp_path)
    landing = tmp_path / "landing"
    config = config_for(warehouse)
    with pytest.raises(EnergyAnomalyError, match="no trained model"):
        update(config, str(landing))
    with pytest.raises(InputFileError, match="landing zone must be an existing folder"):
        update(config, str(landing), model=model)

    land(landing, drops()[0])
    capsys.readouterr()
    update(config, str(landing), model=model, as_json=True)
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])  # --json: the last line
    (batch,) = summary["batches"]
    assert summary["command"] == "update" and batch["files"] == 1 and batch["readings"] > 0
    assert batch["scored_days"] > 0 and set(batch["seconds"]) >= {"ingest", "scores"}

    # A truncated gzip file fails the update, naming the file; nothing is committed for it.
    whole = gzip.compress(drops()[1][f"{DAYS[0]}.csv"].encode())
    (landing / f".{DAYS[0]}.csv.gz").write_bytes(whole[: len(whole) // 2])
    (landing / f".{DAYS[0]}.csv.gz").rename(landing / f"{DAYS[0]}.csv.gz")
    versions = {t.name: table_version(spark, table_path(warehouse, t)) for t in COMPARED}
    with pytest.raises(InputFileError, match=f"{DAYS[0]}.csv.gz"):
        update(config, str(landing), model=model)
    assert versions == {t.name: table_version(spark, table_path(warehouse, t)) for t in COMPARED}

    # Fixed (a whole copy landed under the same name), the same batch goes through.
    (landing / f".{DAYS[0]}.csv.gz").write_bytes(whole)
    (landing / f".{DAYS[0]}.csv.gz").rename(landing / f"{DAYS[0]}.csv.gz")
    (result,) = update(config, str(landing), model=model)
    assert result.ingest.files == 1 and result.score.days > 0
