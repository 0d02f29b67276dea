"""gold/monitoring: the PSI and drift rules (pandas), and a real shift caught on Spark: a third of
the households (one of three) with a level shift for the whole scored period is drift; the same
period clean is not (the detectors themselves barely move: each household is judged against its
own recent days)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from energy_anomaly import catalog
from energy_anomaly.models.bundle import TrainingDistributions
from energy_anomaly.monitoring.core import MIN_DAYS, bin_edges, is_drift, monitoring_rows, psi, training_shares
from tests.conftest import SAMPLE_DIR, SCORED_END, SCORED_START, WEATHER

QUANTILES = np.quantile(np.random.default_rng(0).normal(size=50_000), np.linspace(0, 1, 1001))


def counts_of(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.bincount(np.searchsorted(edges, scores, side="left"), minlength=len(edges) + 1)


def test_psi_is_near_zero_for_the_training_distribution_and_large_for_a_shift():
    edges = bin_edges(QUANTILES)
    expected = training_shares(QUANTILES, edges)
    assert len(edges) == 9 and np.allclose(expected, 0.1, atol=0.002)
    rng = np.random.default_rng(1)
    assert psi(expected, counts_of(rng.normal(size=5_000), edges)) < 0.02
    assert psi(expected, counts_of(rng.normal(loc=0.5, size=5_000), edges)) > 0.2


def test_repeated_quantiles_give_no_empty_bins():
    quantiles = np.concatenate([np.zeros(600), np.linspace(0, 1, 401)])  # 60 % of training scores are 0
    edges = bin_edges(quantiles)
    assert len(edges) == len(np.unique(edges)) < 9
    shares = training_shares(quantiles, edges)
    assert shares.sum() == pytest.approx(1.0) and (shares > 0).all()


def test_a_household_moved_beyond_the_season_and_its_own_noise():
    from energy_anomaly.monitoring.core import moved_households

    levels = pd.DataFrame(
        {
            "base": [1.0] * 6,
            "spread": [0.4] * 6,
            "now": [1.2, 1.2, 1.2, 1.2 - 0.9, 1.2 + 0.5, 1.2 + 0.5],
            "n": [120, 120, 120, 120, 120, 1],  # the last: one day's rise of 65 % is within its noise
        }
    )
    assert moved_households(levels).tolist() == [False, False, False, True, True, False]


def test_drift_rules():
    assert is_drift(MIN_DAYS - 1, 5.0, 0.5, 0.01) is None  # too few days to judge
    assert is_drift(1000, 0.05, 0.02, 0.01) is False
    assert is_drift(1000, 0.25, 0.01, 0.01) is True
    assert is_drift(1000, 0.05, 0.031, 0.01) is True  # more than 3x the training share flagged


def test_rows_per_model_and_slice():
    counts = pd.DataFrame(
        {
            "model": ["ensemble"] * 4,
            "bucket": [0, 9, 0, 9],
            "acorn_group": ["Affluent", "Affluent", None, None],
            "tariff": ["Std", "Std", "ToU", "ToU"],
            "days": [60, 60, 40, 40],
            "flagged": [0, 6, 0, 4],
        }
    )
    completeness = pd.DataFrame(
        {"acorn_group": ["Affluent", None], "tariff": ["Std", "ToU"], "days": [150, 80], "complete": [120, 80]}
    )
    levels = pd.DataFrame(
        {
            "household_id": ["a", "b", "c", "d"],
            "acorn_group": ["Affluent", "Affluent", "Affluent", None],
            "tariff": ["Std", "Std", "Std", "ToU"],
            "base": [2.0, 1.0, 1.5, 0.5],
            "spread": [0.3, 0.3, 0.3, 0.3],
            "now": [2.1, 1.1, 1.6, 0.5 + np.log(0.4)],  # the season adds 0.1; d lost 60 % on top
            "n": [60, 60, 60, 40],
        }
    )
    training = TrainingDistributions(scores={"ensemble": QUANTILES}, training_period=("", ""), flagged_rate=0.01)
    rows = monitoring_rows(counts, levels, completeness, training).set_index("slice")
    assert list(rows.index) == ["overall", "acorn_group=Affluent", "acorn_group=unknown", "tariff=Std", "tariff=ToU"]
    assert rows.loc["overall", "days"] == 200 and rows.loc["overall", "flagged_rate"] == pytest.approx(0.05)
    assert rows.loc["overall", "completeness"] == pytest.approx(200 / 230)
    # Half the days in the two outer bins: drift; 80 days (< MIN_DAYS) are not judged.
    assert rows["drift"].tolist() == [True, True, None, True, None]
    assert rows["moved_share"].tolist() == [0.25, 0.0, 1.0, 0.0, 1.0]


@pytest.mark.spark
@pytest.mark.slow
def test_a_level_shift_in_a_third_of_households_is_drift_and_the_clean_period_is_not(spark, scored, tmp_path):
    from energy_anomaly.features.stage import run_features
    from energy_anomaly.scoring.stage import run_score
    from energy_anomaly.tables import read_table, replace_where

    source, trained, _ = scored
    daily = read_table(spark, source, catalog.SILVER_DAILY)
    households = sorted(r[0] for r in daily.select("household_id").distinct().collect())[:3]
    shifted = households[0]  # a third of them
    in_period = F.col("day").between(F.lit(SCORED_START), F.lit(SCORED_END))
    runs = {}
    for name, factor in (("clean", 1.0), ("shifted", 0.4)):  # 60 % of the load bypassed from September
        warehouse = str(tmp_path / name)
        shutil.copytree(f"{source}/silver/households", f"{warehouse}/silver/households")
        hit = (F.col("household_id") == F.lit(shifted)) & in_period
        rows = (
            daily.where(F.col("household_id").isin(households))
            .withColumn("kwh", F.when(hit, F.transform("kwh", lambda v: v * factor)).otherwise(F.col("kwh")))
            .withColumn("daily_kwh", F.when(hit, F.col("daily_kwh") * factor).otherwise(F.col("daily_kwh")))
        )
        replace_where(rows, warehouse, catalog.SILVER_DAILY, F.lit(True))
        run_features(spark, warehouse, str(SAMPLE_DIR / "uk_bank_holidays.csv"), WEATHER)
        result = run_score(spark, warehouse, trained.path, start=SCORED_START, end=SCORED_END)
        runs[name] = result.monitoring.set_index(["model", "slice"])
        print(name, result.monitoring[result.monitoring["slice"] == "overall"].to_string())
    ensemble = (catalog.ENSEMBLE, "overall")
    assert runs["clean"].loc[ensemble, "drift"] == False  # noqa: E712 (a numpy bool)
    assert runs["shifted"].loc[ensemble, "drift"] == True  # noqa: E712
    assert runs["shifted"].loc[ensemble, "moved_share"] == pytest.approx(1 / 3)
    assert runs["clean"].loc[ensemble, "moved_share"] == 0
    written = read_table(spark, str(tmp_path / "shifted"), catalog.GOLD_MONITORING)
    assert written.where(F.col("drift") & (F.col("model") == catalog.ENSEMBLE)).count() >= 1


def test_drifting_rows_are_found_whether_flags_are_objects_or_numpy_bools():
    from energy_anomaly.monitoring.core import drifting, drifting_models

    judged = pd.DataFrame(
        {"model": ["ensemble", "lstm_forecaster", "ensemble"], "slice": ["overall", "overall", "tariff=Std"]}
    )
    every_slice_judged = judged.assign(drift=np.array([True, False, True]))  # numpy bool column
    some_not_judged = judged.assign(drift=[True, None, True])  # object column
    for rows in (every_slice_judged, some_not_judged):
        assert drifting_models(rows) == ["ensemble"]
        assert list(drifting(rows)["slice"]) == ["overall", "tariff=Std"]
    assert drifting_models(None) == [] and drifting_models(judged.assign(drift=[None] * 3)) == []
