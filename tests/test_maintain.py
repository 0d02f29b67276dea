"""``maintain``: OPTIMIZE leaves every table's rows as they were in fewer files, clustered by
household where the table is read by household; VACUUM keeps what a reader of an older version
may still need; a retention under Delta's 7-day floor and an unknown table are one-line refusals."""

from __future__ import annotations

import shutil

import pytest

from energy_anomaly import catalog
from energy_anomaly.cli import main
from energy_anomaly.maintenance import file_count
from energy_anomaly.tables import CHANGE_DATA_FEED, has_change_data_feed, set_property, table_path, table_version

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_optimize_and_vacuum_keep_every_row_in_fewer_files(spark, scored, tmp_path, capsys):
    from energy_anomaly.scoring.stage import run_score
    from tests.conftest import SCORED_END, SCORED_START

    warehouse = str(tmp_path / "warehouse")
    shutil.copytree(scored[0], warehouse)
    # Another scoring run: the small files daily runs leave behind.
    run_score(spark, warehouse, scored[1].path, start=SCORED_START, end=SCORED_END)
    names = ("gold/anomaly_scores", "bronze/readings")
    versions = {name: table_version(spark, table_path(warehouse, name)) for name in names}
    files = {name: file_count(spark, table_path(warehouse, name)) for name in names}

    # A table from before gold/anomaly_scores had its Change Data Feed: maintain turns it on.
    set_property(spark, table_path(warehouse, catalog.GOLD_SCORES), CHANGE_DATA_FEED, "false")

    argv = ["maintain", "--warehouse", warehouse] + [a for name in names for a in ("--table", name)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "gold/anomaly_scores: OPTIMIZE (ZORDER BY household_id)" in out
    assert "bronze/readings: OPTIMIZE (compaction)" in out
    for name in names:
        path = table_path(warehouse, name)
        after = spark.read.format("delta").load(path)
        # The files OPTIMIZE replaced are younger than the retention: the older version still reads.
        before = spark.read.format("delta").option("versionAsOf", versions[name]).load(path)
        assert after.count() == before.count() > 0, name
        assert after.exceptAll(before).isEmpty() and before.exceptAll(after).isEmpty(), name
        assert file_count(spark, path) <= files[name], name
    assert file_count(spark, table_path(warehouse, catalog.GOLD_SCORES)) < files["gold/anomaly_scores"]
    assert has_change_data_feed(spark, table_path(warehouse, catalog.GOLD_SCORES))


def test_bad_maintenance_requests_are_one_line_with_exit_2(tmp_path, capsys):
    cases = {
        "at least 168": ["maintain", "--warehouse", str(tmp_path), "--retention-hours", "24"],
        "not a table of the catalogue": ["maintain", "--warehouse", str(tmp_path), "--table", "gold/x'; DROP"],
    }
    for reason, argv in cases.items():
        capsys.readouterr()
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("energy-anomaly maintain: error: ") and reason in err[-1], err[-3:]
