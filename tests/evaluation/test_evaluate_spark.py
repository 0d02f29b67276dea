"""evaluate on real scored rows: gold/metrics equals the metric core on the same scores, re-runs
replace the run, every label is accounted for, and a period inside training is refused."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from pyspark.sql import functions as F

from energy_anomaly import catalog
from energy_anomaly.errors import EnergyAnomalyError
from energy_anomaly.evaluation.examples import collect_examples
from energy_anomaly.evaluation.metrics import model_metrics
from energy_anomaly.evaluation.report import write_report
from energy_anomaly.evaluation.stage import run_evaluate
from energy_anomaly.tables import read_table
from tests.conftest import SCORED_END, SCORED_START

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def labels(spark, scored, tmp_path_factory):
    """The 40 highest-IF-scored days labelled (so there are catches), one of them twice, a day
    outside the period and a day of a household that was never scored."""
    warehouse, _, _ = scored
    top = (
        read_table(spark, warehouse, "gold/anomaly_scores")
        .where(F.col("model") == "isolation_forest")
        .orderBy(F.col("score").desc())
        .limit(40)
        .select("household_id", "day")
        .toPandas()
    )
    rows = [(r.household_id, r.day, "h1" if i % 2 else "outage", "{}", 42) for i, r in enumerate(top.itertuples())]
    # The same label twice (a household in two inputs) is one label.
    rows += [
        rows[0],
        ("MAC000002", dt.date(2013, 3, 1), "h5", "{}", 42),
        ("MAC999999", dt.date(2013, 10, 1), "h5", "{}", 42),
    ]
    path = str(tmp_path_factory.mktemp("labels") / "labels")
    spark.createDataFrame(rows, catalog.LABELS).write.format("delta").save(path)
    return path


def test_metrics_rows_equal_the_core_on_the_same_scores(spark, scored, labels):
    warehouse, trained, _ = scored
    result = run_evaluate(spark, warehouse, [labels], start=SCORED_START, end=SCORED_END)
    assert result.model_version == trained.version
    assert (result.anomalous_days, result.labels_not_scored, result.labels_outside_period) == (40, 1, 1)
    table = read_table(spark, warehouse, "gold/metrics").where(F.col("run_id") == result.run_id).toPandas()
    assert set(table["model"]) == {"isolation_forest", "conv1d_autoencoder", "lstm_forecaster", "ensemble"}
    assert {"overall", "anomaly_type=h1", "anomaly_type=outage", "season=autumn", "season=winter", "tariff=Std"} <= set(
        table["slice"]
    )

    scores = read_table(spark, warehouse, "gold/anomaly_scores").where(F.col("model") == "ensemble").toPandas()
    labelled = (
        spark.read.format("delta").load(labels).toPandas()[["household_id", "day", "anomaly_type"]].drop_duplicates()
    )
    frame = scores.merge(labelled, on=["household_id", "day"], how="left").assign(
        season="s", acorn_group="a", tariff="t"
    )
    expected = model_metrics(frame).query("slice == 'overall'").set_index("metric")["value"]
    got = table.query("model == 'ensemble' and slice == 'overall'").set_index("metric")["value"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    assert got["n_days"] == len(scores) and got["n_anomalous"] == 40


def test_evaluating_again_replaces_the_run(spark, scored, labels):
    warehouse, _, _ = scored
    first = run_evaluate(spark, warehouse, [labels], start=SCORED_START, end=SCORED_END)
    before = read_table(spark, warehouse, "gold/metrics").count()
    second = run_evaluate(spark, warehouse, [labels], start=SCORED_START, end=SCORED_END)
    assert second.run_id == first.run_id
    # Other tests evaluate other runs on the same shared warehouse: the run's own rows are its metrics.
    metrics = read_table(spark, warehouse, "gold/metrics")
    assert metrics.count() == before
    assert metrics.where(F.col("run_id") == first.run_id).count() == len(first.metrics)


def test_a_period_inside_training_is_refused(spark, scored, labels):
    warehouse, _, _ = scored
    with pytest.raises(EnergyAnomalyError, match="no scores|overlaps"):
        run_evaluate(spark, warehouse, [labels], start=dt.date(2013, 8, 1), end=dt.date(2013, 8, 31))
    with pytest.raises(EnergyAnomalyError, match="overlaps"):
        run_evaluate(spark, warehouse, [labels], start=dt.date(2013, 8, 31), end=SCORED_END)


def test_report_has_every_plot_and_the_tables(spark, scored, labels, tmp_path):
    warehouse, _, _ = scored
    result = run_evaluate(spark, warehouse, [labels], start=SCORED_START, end=SCORED_END)
    examples = collect_examples(spark, warehouse, result.cases, result.model_version)
    assert examples and all(len(e["actual"]) == len(e["expected"]) == 48 for e in examples)
    report = write_report(tmp_path / "report", result, {"ensemble": 1.0}, examples)
    text = report.read_text()
    for image in (
        "curves",
        "auc_by_type",
        "recall_by_type",
        "auc_by_season",
        "auc_by_acorn_group",
        "score_distributions",
        "examples",
    ):
        assert f"({image}.png)" in text and (tmp_path / "report" / f"{image}.png").stat().st_size > 10_000
    assert "| ensemble |" in text and "| outage |" in text
