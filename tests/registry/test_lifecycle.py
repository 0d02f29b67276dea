"""The model lifecycle on a real MLflow (SQLite store under a temporary warehouse), no mocks:
train -> registered version with lineage -> score with the champion -> evaluate logs metrics ->
a second version is a challenger, promoted only if it does no worse -> the pyfunc loads from the
registry in a notebook's way; a bundle changed since registration is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from energy_anomaly import catalog
from energy_anomaly.config import Config, FeaturesConfig
from energy_anomaly.errors import ArtifactError, EnergyAnomalyError
from energy_anomaly.tables import read_table, table_path, table_version
from tests.conftest import SAMPLE_DIR, SCORED_END, SCORED_START, TEST_SPARK, label_top_ensemble_days

TRAIN = {"start": pd.Timestamp("2013-01-01").date(), "end": pd.Timestamp("2013-08-31").date(), "per_stratum": 400}


def config_for(warehouse: str) -> Config:
    bank_holidays = str(SAMPLE_DIR / "uk_bank_holidays.csv")
    return Config(warehouse=warehouse, spark=TEST_SPARK, features=FeaturesConfig(bank_holidays=bank_holidays))


@pytest.fixture(scope="module")
def lifecycle(spark, scored, tmp_path_factory):
    """A copy of the scored warehouse without its scores; version 1 trained there through the
    registry, and the test period scored with the champion (no model flag)."""
    from energy_anomaly.commands.models import score, train

    warehouse = tmp_path_factory.mktemp("lifecycle") / "warehouse"
    # Without the registry: another test of this process may have registered a champion there.
    ignored = shutil.ignore_patterns("anomaly_scores", "anomalies", "models", "mlflow")
    shutil.copytree(scored[0], warehouse, ignore=ignored)
    config = config_for(str(warehouse))
    first = train(config, **TRAIN, seed=3, epochs=2)
    assert score(config, start=SCORED_START, end=SCORED_END).version == first.version
    return config, first


def registry_of(config):
    from energy_anomaly.registry.store import Registry

    return Registry.of(config)


def test_train_is_a_tracked_run_and_a_registered_champion(spark, lifecycle):
    config, first = lifecycle
    registry = registry_of(config)
    version = registry.model_version()  # the champion
    assert str(version.version) == "1" and version.tags["bundle_version"] == first.version
    run = registry.client().get_run(version.run_id)
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["per_stratum"] == "400" and params["seed"] == "3" and params["start"] == "2013-01-01"
    lineage = table_version(spark, table_path(config.warehouse, catalog.GOLD_FEATURES))
    assert params["gold_features_delta_version"] == str(lineage) == str(first.features_version)
    losses = registry.client().get_metric_history(version.run_id, "conv1d_autoencoder.loss")
    assert [m.step for m in losses] == list(range(len(first.metadata["final_losses"]["conv1d_autoencoder"]["loss"])))
    assert run.data.metrics["sample.sample_days"] == first.metadata["sample_days"]
    assert (Path(config.warehouse) / "mlflow" / "mlflow.db").is_file()


def test_champion_scores_evaluation_is_logged_and_promotion_needs_no_worse(spark, lifecycle, tmp_path, capsys):
    from energy_anomaly.commands.models import evaluate, score, train

    config, first = lifecycle
    registry = registry_of(config)
    labels = label_top_ensemble_days(spark, config.warehouse, 20, str(tmp_path / "labels"))
    evaluate(config, [labels], start=SCORED_START, end=SCORED_END, report_dir=str(tmp_path / "report1"))
    champion = registry.model_version()
    (key,) = registry.evaluations(champion)
    assert registry.evaluations(champion)[key] == pytest.approx(1.0)  # the labels are its own top days

    second = train(config, **TRAIN, seed=11, epochs=2)
    challenger = registry.model_version(alias="challenger")
    assert str(challenger.version) == "2" and challenger.tags["bundle_version"] == second.version
    with pytest.raises(EnergyAnomalyError, match="no evaluation on the same labels"):
        registry.promote()

    assert score(config, start=SCORED_START, end=SCORED_END, alias="challenger").version == second.version
    evaluate(config, [labels], start=SCORED_START, end=SCORED_END, report_dir=str(tmp_path / "report2"))
    theirs = registry.evaluations(challenger)[key]
    assert theirs < 1.0  # another seed does not rank version 1's own top days exactly first
    with pytest.raises(EnergyAnomalyError, match="worse than the champion"):
        registry.promote()
    assert str(registry.model_version().version) == "1"

    old, new, reason = registry.promote(force=True)
    assert (old, new) == ("1", "2") and reason.startswith("forced")
    assert registry.model_version().tags["bundle_version"] == second.version
    assert registry.model_version(version=1).tags["bundle_version"] == first.version
    with pytest.raises(EnergyAnomalyError, match="alias 'challenger'"):
        registry.model_version(alias="challenger")  # the promoted challenger is no longer one


def test_the_registered_pyfunc_predicts_what_spark_scored(spark, lifecycle):
    """A notebook's way: only MLflow and the installed package."""
    import mlflow

    config, _ = lifecycle
    registry = registry_of(config)
    champion = registry.model_version()
    mlflow.set_tracking_uri(registry.tracking_uri)
    mlflow.set_registry_uri(registry.registry_uri)
    model = mlflow.pyfunc.load_model("models:/energy-anomaly@champion")
    features = read_table(spark, config.warehouse, catalog.GOLD_FEATURES)
    household = features.select("household_id").first()[0]
    frame = (
        features.where((F.col("household_id") == household) & (F.col("day") >= F.lit("2013-10-24")))
        .where(F.col("day") <= F.lit(SCORED_END))
        .toPandas()
    )
    predicted = model.predict(frame)
    assert list(predicted.columns) == ["household_id", "day", *catalog.SCORED_MODELS]

    scored = (
        read_table(spark, config.warehouse, catalog.GOLD_SCORES)
        .where((F.col("household_id") == household) & (F.col("model_version") == champion.tags["bundle_version"]))
        .where(F.col("day") >= F.lit("2013-11-01"))
        .toPandas()
        .pivot(index="day", columns="model", values="score")
    )
    predicted = predicted.assign(day=predicted["day"].dt.date).set_index("day").loc[list(scored.index)]
    assert len(scored) > 30
    for name in catalog.SCORED_MODELS:
        np.testing.assert_allclose(predicted[name].to_numpy(), scored[name].to_numpy(), rtol=1e-6, atol=1e-9)


def test_a_bundle_changed_since_registration_is_refused(spark, lifecycle, tmp_path):
    from energy_anomaly.commands.models import score

    config, _ = lifecycle
    registry = registry_of(config)
    folder = registry.bundle_folder(config.warehouse)
    copy = tmp_path / "untouched"
    shutil.copytree(folder, copy)
    try:
        metadata = folder / "metadata.json"
        # A writer of the warehouse lowers the thresholds (and could re-digest the files it swaps in).
        metadata.write_text(metadata.read_text().replace('"thresholds": {', '"thresholds": {"_": 0, ', 1))
        with pytest.raises(ArtifactError, match="differs from the one the registry recorded"):
            score(config, start=SCORED_START, end=SCORED_END)
        shutil.rmtree(folder)  # a missing copy is downloaded again from the registry's artefact store
        assert registry.bundle_folder(config.warehouse) == folder
        assert (folder / "metadata.json").read_bytes() == (copy / "metadata.json").read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(copy, folder)


def test_scoring_writes_monitoring_rows(spark, lifecycle):
    config, _ = lifecycle
    rows = read_table(spark, config.warehouse, catalog.GOLD_MONITORING).toPandas()
    latest = rows[rows["scores_version"] == rows["scores_version"].min()]  # the fixture's run
    overall = latest[latest["slice"] == "overall"].set_index("model")
    assert sorted(overall.index) == sorted(catalog.SCORED_MODELS)
    assert (overall["psi"] >= 0).all() and overall["completeness"].between(0, 1).all()
    assert set(latest["slice"]) > {"overall"}  # per ACORN group and tariff too
