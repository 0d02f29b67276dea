"""``generate`` on small shapes: deterministic by seed, the asked shape, real-looking raw files."""

import datetime as dt

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from energy_anomaly.cli import main
from energy_anomaly.ingest.stage import run_ingest
from energy_anomaly.tables import read_table

pytestmark = pytest.mark.spark

SMALL = ["--households", "6", "--start", "2013-01-01", "--end", "2013-02-28"]


def generate_bronze(warehouse, seed):
    assert main(["generate", "--warehouse", str(warehouse), "--seed", str(seed), *SMALL]) == 0
    return warehouse


@pytest.fixture(scope="module")
def bronze_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("gen")
    return {name: generate_bronze(base / name, seed) for name, seed in (("a", 1), ("b", 1), ("c", 2))}


def test_same_seed_same_rows_other_seed_different(spark, bronze_runs):
    a, b, c = (read_table(spark, str(bronze_runs[k]), "bronze/readings") for k in "abc")
    assertDataFrameEqual(a, b)
    assert a.exceptAll(c).count() > 0


def test_shape_households_period_and_grid(spark, bronze_runs):
    readings = read_table(spark, str(bronze_runs["a"]), "bronze/readings")
    households = read_table(spark, str(bronze_runs["a"]), "silver/households")
    assert households.count() == 6 and readings.select("household_id").distinct().count() == 6
    first, last = readings.agg(F.min("ts"), F.max("ts")).first()
    assert first >= dt.datetime(2013, 1, 1) and last < dt.datetime(2013, 3, 1)
    assert readings.where((F.minute("ts") % 30 != 0) | (F.col("kwh") < 0)).count() == 0
    per_day = readings.groupBy("household_id", F.to_date("ts")).count()
    # mostly whole days of 48, some days with a missing reading or a duplicated one
    assert per_day.where("count = 48").count() / per_day.count() > 0.9


def test_csv_layouts_reingest_with_every_line_accounted(spark, tmp_path):
    for layout in ("kaggle", "datastore"):
        out = tmp_path / layout
        assert (
            main(["generate", "--format", layout, "--output", str(out), "--compression", "gzip", "--seed", "3", *SMALL])
            == 0
        )
        result = run_ingest(
            spark, str(tmp_path / f"w_{layout}"), [str(out / "halfhourly")], [str(out / "households")], 12.0
        )
        assert result.lines_read == result.readings + sum(
            n for r, n in result.quarantine_reasons.items() if r == "missing_kwh"
        )
        assert set(result.quarantine_reasons) <= {"missing_kwh"}
        assert result.households == 6


def test_bad_arguments_are_refused(capsys):
    assert main(["generate", "--format", "kaggle", *SMALL]) == 2
    assert "--output is required" in capsys.readouterr().err


def test_a_scaled_reading_stays_within_what_the_supply_lets_through(spark):
    """Scaling a real day up can go past the ingest's bound; a generated reading never does, so a
    generated bronze passes bronze's CHECK constraint and a generated file has no kwh_above_max."""
    from energy_anomaly.synth.generate import Shape, with_profiles

    days = spark.createDataFrame(
        [("MAC1", 0, 1, False, dt.date(2013, 1, d), 3.0) for d in range(1, 8)],
        "household_id STRING, template_id INT, month INT, is_weekend BOOLEAN, day DATE, level DOUBLE",
    )
    library = spark.createDataFrame(
        [(0, 1, False, [[1.0 + i / 10 for i in range(48)]])],
        "template_id INT, month INT, is_weekend BOOLEAN, days ARRAY<ARRAY<DOUBLE>>",
    )
    values = [v for row in with_profiles(days, library, Shape(), 1, 12.0).collect() for v in row["kwh"]]
    assert len(values) == 7 * 48 and max(values) == 12.0
    assert 0 < sum(v < 12.0 for v in values) < len(values)  # only the readings above the bound are capped
