"""features -> train -> score on real rows through Spark, against the gold table contract."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from energy_anomaly.catalog import SCORED_MODELS
from energy_anomaly.models.bundle import Bundle
from energy_anomaly.scoring.core import score_households, score_in_calls
from energy_anomaly.scoring.reasons import REASONS
from energy_anomaly.scoring.stage import run_score
from energy_anomaly.tables import read_table
from tests.conftest import SCORED_END as END
from tests.conftest import SCORED_START as START

pytestmark = [pytest.mark.spark, pytest.mark.slow]

MODELS = {"isolation_forest", "conv1d_autoencoder", "lstm_forecaster", "ensemble"}


def test_every_complete_day_is_scored_by_every_model(spark, scored):
    warehouse, trained, result = scored
    scores = read_table(spark, warehouse, "gold/anomaly_scores")
    features = read_table(spark, warehouse, "gold/features").where(
        F.col("day").between(START, END) & F.col("is_complete")
    )
    expected_days = features.select("household_id", "day")
    assert result.days == expected_days.count() > 400
    per_day = scores.groupBy("household_id", "day").agg(F.collect_set("model").alias("models"))
    assertDataFrameEqual(per_day.select("household_id", "day"), expected_days)
    assert all(set(r.models) == MODELS for r in per_day.collect())
    assert scores.where(F.col("is_anomaly") != (F.col("score") > F.col("threshold"))).count() == 0
    assert {r.model_version for r in scores.select("model_version").distinct().collect()} == {trained.version}


def test_spark_scores_equal_the_raw_core(spark, scored):
    warehouse, trained, _ = scored
    household = "MAC000003"
    frame = (
        read_table(spark, warehouse, "gold/features")
        .where(
            (F.col("household_id") == household)
            & (F.col("day") >= START - dt.timedelta(days=7))
            & (F.col("day") <= END)
        )
        .toPandas()
    )
    raw = score_households(frame, Bundle.load(trained.path), START, END).set_index("day")
    spark_scores = (
        read_table(spark, warehouse, "gold/anomaly_scores")
        .where(F.col("household_id") == household)
        .toPandas()
        .pivot(index="day", columns="model", values="score")
    )
    for model in MODELS:
        np.testing.assert_allclose(
            spark_scores[model].sort_index().to_numpy(), raw[f"score_{model}"].sort_index().to_numpy(), rtol=1e-5
        )


def test_scoring_in_calls_of_whole_households_gives_the_same_rows(spark, scored):
    warehouse, trained, _ = scored
    frame = (
        read_table(spark, warehouse, "gold/features")
        .where((F.col("day") >= START - dt.timedelta(days=7)) & (F.col("day") <= END))
        .toPandas()
    )
    assert frame["household_id"].nunique() >= 3
    bundle = Bundle.load(trained.path)
    whole = score_households(frame, bundle, START, END)
    in_calls = score_in_calls(frame, bundle, START, END, rows_per_call=1)  # a household a call
    columns = [f"score_{m}" for m in SCORED_MODELS]
    pd.testing.assert_frame_equal(
        in_calls.sort_values(["household_id", "day"]).reset_index(drop=True)[["household_id", "day", *columns]],
        whole.sort_values(["household_id", "day"]).reset_index(drop=True)[["household_id", "day", *columns]],
        rtol=1e-5,
    )


def test_two_groups_are_scored_in_two_tasks(spark, scored):
    """A daily update scores in as many groups as cores: each group is its own partition (a
    groupBy of bucket numbers put buckets 0 and 1 in one shuffle partition, so one core scored both)."""
    from energy_anomaly.scoring.stage import score_wide, ship_bundle

    warehouse, trained, _ = scored
    context = read_table(spark, warehouse, "gold/features").where(
        (F.col("day") >= START - dt.timedelta(days=7)) & (F.col("day") <= START)
    )
    wide = score_wide(context, ship_bundle(spark, trained.path), START, START, 2)
    placed = wide.select("household_id", F.spark_partition_id().alias("part")).distinct().collect()
    assert len({r.part for r in placed}) == 2
    assert len({r.household_id for r in placed}) == len(placed) == 4  # each household in one task


def test_a_group_with_no_complete_day_in_the_period_scores_nothing(spark, scored):
    """The days before the period only fill the LSTM's windows: a context whose period days are
    all incomplete gives no rows (the models are not called on an empty input)."""
    from energy_anomaly.scoring.stage import score_wide, ship_bundle

    warehouse, trained, _ = scored
    context = (
        read_table(spark, warehouse, "gold/features")
        .where((F.col("day") >= START - dt.timedelta(days=7)) & (F.col("day") <= START))
        .withColumn("is_complete", F.col("day") < F.lit(START))
    )
    assert score_wide(context, ship_bundle(spark, trained.path), START, START, 2).count() == 0


def test_anomalies_are_the_flagged_ensemble_days_with_context(spark, scored):
    warehouse, _, result = scored
    anomalies = read_table(spark, warehouse, "gold/anomalies")
    flagged = read_table(spark, warehouse, "gold/anomaly_scores").where(
        (F.col("model") == "ensemble") & F.col("is_anomaly")
    )
    assert anomalies.count() == flagged.count() == result.anomalies
    assertDataFrameEqual(anomalies.select("household_id", "day"), flagged.select("household_id", "day"))
    rows = anomalies.collect()
    assert rows, "the fixture's period has flagged days"
    for row in rows:
        assert row.tariff in ("Std", "ToU") and row.acorn_group and len(row.top_deviating_times) == 3
        assert row.expected_kwh >= 0 and row.actual_kwh >= 0
        assert row.reason in REASONS


def test_rescoring_the_period_changes_nothing(spark, scored):
    warehouse, trained, _ = scored
    before = {t: read_table(spark, warehouse, t).localCheckpoint() for t in ("gold/anomaly_scores", "gold/anomalies")}
    run_score(spark, warehouse, trained.path, start=START, end=END)
    for table, frame in before.items():
        assertDataFrameEqual(read_table(spark, warehouse, table), frame, rtol=1e-9)


def test_bundle_metadata_describes_the_training(scored):
    _, trained, _ = scored
    m = trained.metadata
    assert m["training_period"] == ["2013-01-01", "2013-08-31"]
    assert m["sample_days"] == m["fit_days"] + m["calibration_days"] > 500
    assert set(m["final_losses"]) == {"conv1d_autoencoder", "lstm_forecaster"}
    assert pd.Series(m["strata"]).sum() == m["sample_days"]


def test_score_without_a_period_scores_every_day_not_scored_yet(spark, scored, tmp_path):
    """Periods are inputs: with none, score takes each household's days from its first unscored one."""
    import shutil

    from pyspark.sql import functions as F

    from energy_anomaly import catalog
    from energy_anomaly.scoring.stage import run_score_unscored, unscored_ranges
    from energy_anomaly.tables import read_table

    warehouse, trained, _ = scored
    copy = str(tmp_path / "warehouse")
    shutil.copytree(warehouse, copy)
    features = read_table(spark, copy, catalog.GOLD_FEATURES).where("is_complete")
    ranges = unscored_ranges(spark, copy)
    # The fixture scored Sep-Dec: every household's first unscored day is its first complete day.
    firsts = {
        r["household_id"]: r["first"]
        for r in features.groupBy("household_id").agg(F.min("day").alias("first")).collect()
    }
    assert {h: first for h, (first, _) in ranges.items()} == firsts

    result = run_score_unscored(spark, copy, trained.path)
    assert result.days == features.count()
    ensemble = read_table(spark, copy, catalog.GOLD_SCORES).where(F.col("model") == catalog.ENSEMBLE)
    assert ensemble.count() == features.count()
    assert run_score_unscored(spark, copy, trained.path) is None  # every day scored: nothing to do


def test_run_without_train_and_without_a_model_is_refused_before_any_stage(tmp_path):
    from energy_anomaly.commands.pipeline import pipeline
    from energy_anomaly.config import Config
    from energy_anomaly.errors import EnergyAnomalyError

    warehouse = tmp_path / "warehouse"
    with pytest.raises(EnergyAnomalyError, match="no trained model .* run with --train"):
        pipeline(Config(warehouse=str(warehouse)), [str(tmp_path / "nothing.csv")], None, None)
    assert not warehouse.exists()
