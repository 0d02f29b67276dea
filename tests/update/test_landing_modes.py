"""A landing zone moved between the stream (classic Spark) and an update on Spark Connect: each
mode honours the files the other applied, and applies what the other left unfinished.

Spark Connect's path (``run_without_stream``) runs here on the tests' classic session: it uses
only what a Connect session has (batch reads, Delta writes). ``apply`` records the files it is
given; what it would do with them is the update's own tests' business."""

from __future__ import annotations

from pathlib import Path

import pytest

from energy_anomaly.update import landing as zone

pytestmark = pytest.mark.spark


def land(folder: Path, *names: str) -> None:
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / f".{name}.partial").write_text("LCLid,tstp,energy(kWh/hh)\n")
        (folder / f".{name}.partial").rename(folder / name)


def names(paths: list[str]) -> list[str]:
    return [path.rsplit("/", 1)[1] for path in paths]


def test_each_mode_applies_only_what_the_other_has_not(spark, tmp_path):
    warehouse, landing = str(tmp_path / "warehouse"), tmp_path / "landing"
    applied: list[list[str]] = []

    def apply(paths: list[str]) -> list[str]:
        applied.append(names(paths))
        return paths

    def failing(paths: list[str]):
        raise RuntimeError("the driver died mid-batch")

    # The stream applies two files (one whose name its checkpoint has to URI-encode).
    land(landing, "a b%c.csv", "one.csv")
    zone.run(spark, warehouse, str(landing), apply)
    assert applied == [["a b%c.csv", "one.csv"]]

    # Its next batch fails: started in the checkpoint, not committed.
    land(landing, "cut.csv")
    with pytest.raises(RuntimeError, match="mid-batch"):
        zone.run(spark, warehouse, str(landing), failing)
    assert zone.stream_committed(spark, warehouse, str(landing)) == {
        f"file:{landing}/a b%c.csv",
        f"file:{landing}/one.csv",
    }

    # On Spark Connect: what the stream committed is not applied again; its cut batch is.
    land(landing, "two.csv")
    zone.run_without_stream(spark, warehouse, str(landing), apply, None)
    assert applied[-1] == ["cut.csv", "two.csv"]

    # Back to the stream: what Connect applied is skipped, the new file applied.
    land(landing, "three.csv")
    zone.run(spark, warehouse, str(landing), apply)
    assert applied[-1] == ["three.csv"]

    # Nothing is left for either mode.
    before = len(applied)
    zone.run(spark, warehouse, str(landing), apply)
    zone.run_without_stream(spark, warehouse, str(landing), apply, None)
    assert len(applied) == before


def test_a_zone_the_stream_never_served_has_no_committed_files(spark, tmp_path):
    assert zone.stream_committed(spark, str(tmp_path / "warehouse"), str(tmp_path / "landing")) == set()
