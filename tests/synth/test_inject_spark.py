"""``energy-anomaly inject`` on real rows through Spark: Delta -> Delta and CSV -> CSV."""

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from energy_anomaly.cli import main
from energy_anomaly.ingest.stage import run_ingest
from energy_anomaly.tables import table_path
from tests.conftest import SAMPLE_DIR

pytestmark = pytest.mark.spark

FILES = [str(SAMPLE_DIR / "halfhourly_2013" / f"MAC00000{i}.csv.gz") for i in (2, 3, 4)]
PERIOD = ["--start", "2013-09-01", "--end", "2013-12-31", "--rate", "0.1"]


@pytest.fixture(scope="module")
def bronze(spark, tmp_path_factory):
    warehouse = str(tmp_path_factory.mktemp("inject") / "warehouse")
    run_ingest(spark, warehouse, FILES, None, 12.0)
    return table_path(warehouse, "bronze/readings")


def inject_delta(bronze, out, seed):
    status = main(
        [
            "inject",
            "--input",
            bronze,
            "--output",
            f"{out}/readings",
            "--labels",
            f"{out}/labels",
            "--seed",
            str(seed),
            *PERIOD,
        ]
    )
    assert status == 0


def test_delta_injection_changes_only_labelled_days(spark, bronze, tmp_path):
    inject_delta(bronze, tmp_path, seed=1)
    before = spark.read.format("delta").load(bronze)
    after = spark.read.format("delta").load(f"{tmp_path}/readings")
    labels = spark.read.format("delta").load(f"{tmp_path}/labels")
    assert set(after.columns) == set(before.columns)
    assert labels.count() > 0
    assert labels.where(~F.col("day").between("2013-09-01", "2013-12-31")).count() == 0
    day_key = [F.col("household_id"), F.to_date("ts").alias("day")]

    def unlabelled(df):
        return df.select("*", *day_key[1:]).join(labels, ["household_id", "day"], how="left_anti").drop("day")

    assertDataFrameEqual(unlabelled(after), unlabelled(before))
    changed_days = (
        after.alias("a")
        .join(before.alias("b"), ["household_id", "ts", "source_file"], how="inner")
        .where(F.col("a.kwh") != F.col("b.kwh"))
        .select("household_id", F.to_date("ts").alias("day"))
        .distinct()
    )
    # every changed day is labelled (a label may leave a day unchanged, e.g. h6 on a symmetric day)
    assert changed_days.join(labels, ["household_id", "day"], how="left_anti").count() == 0
    assert after.count() == before.count()


def test_same_seed_same_tables_other_seed_different(spark, bronze, tmp_path):
    inject_delta(bronze, tmp_path / "a", seed=9)
    inject_delta(bronze, tmp_path / "b", seed=9)
    inject_delta(bronze, tmp_path / "c", seed=10)

    def load(p):
        return spark.read.format("delta").load(str(p))

    assertDataFrameEqual(load(tmp_path / "a" / "readings"), load(tmp_path / "b" / "readings"))
    assertDataFrameEqual(load(tmp_path / "a" / "labels"), load(tmp_path / "b" / "labels"))
    assert load(tmp_path / "a" / "labels").exceptAll(load(tmp_path / "c" / "labels")).count() > 0


def test_csv_in_csv_out_reingests_cleanly(spark, tmp_path):
    out = tmp_path / "csv"
    assert (
        main(
            [
                "inject",
                "--input",
                FILES[0],
                "--output",
                str(out / "readings"),
                "--labels",
                str(out / "labels"),
                "--seed",
                "2",
                *PERIOD,
            ]
        )
        == 0
    )
    result = run_ingest(spark, str(tmp_path / "w"), [str(out / "readings")], None, 12.0)
    labels = spark.read.option("header", True).csv(str(out / "labels"))
    assert result.quarantined == 0 and result.readings == 17_520
    assert labels.count() > 0 and set(labels.columns) == {"household_id", "day", "anomaly_type", "params", "seed"}
