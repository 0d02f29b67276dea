"""The metric code against values worked out by hand (and, as a second opinion, scikit-learn)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from energy_anomaly.evaluation.metrics import (
    at_threshold,
    auc_pr,
    auc_roc,
    map_at_k,
    model_metrics,
    monthly_inspection,
    precision_at_k,
    recall_at_fpr,
)

# Scores, best first: 0.9 (anomaly), 0.8 (normal), 0.7 (anomaly), 0.6 (normal), 0.5 (normal).
SCORES = np.array([0.5, 0.9, 0.6, 0.7, 0.8])
LABELS = np.array([0, 1, 0, 1, 0], bool)


def test_auc_roc_by_hand():
    # Pairs (anomaly, normal) ordered right: 0.9 beats all 3; 0.7 beats 0.6 and 0.5 -> 5 of 6.
    assert auc_roc(SCORES, LABELS) == pytest.approx(5 / 6)


def test_auc_roc_ties_count_half():
    # One anomaly tied with one of two normals, above the other: (0.5 + 1) / 2.
    assert auc_roc(np.array([1.0, 1.0, 0.0]), np.array([1, 0, 0], bool)) == pytest.approx(0.75)


def test_auc_pr_by_hand():
    # Anomalies at ranks 1 and 3: precision 1/1 and 2/3, each worth half the recall -> 5/6.
    assert auc_pr(SCORES, LABELS) == pytest.approx((1 + 2 / 3) / 2)


def test_auc_pr_takes_tied_scores_together():
    # Both top scores tied (one anomaly, one normal): one step to recall 1 at precision 1/2.
    assert auc_pr(np.array([0.9, 0.9, 0.1]), np.array([1, 0, 0], bool)) == pytest.approx(0.5)


def test_aucs_agree_with_scikit_learn_on_random_scores():
    rng = np.random.default_rng(3)
    labels = rng.uniform(size=500) < 0.1
    scores = np.round(rng.normal(size=500) + labels, 1)  # rounded: plenty of ties
    assert auc_roc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))
    assert auc_pr(scores, labels) == pytest.approx(average_precision_score(labels, scores))


def test_recall_at_fpr_by_hand():
    # 200 normals 0..199, budget 1 % = 2 normals may score above the cut -> cut = 197.
    normals = np.arange(200.0)
    anomalies = np.array([198.5, 197.0, 250.0, 10.0])
    scores = np.r_[normals, anomalies]
    labels = np.r_[np.zeros(200, bool), np.ones(4, bool)]
    assert recall_at_fpr(scores, labels) == pytest.approx(2 / 4)  # 198.5 and 250 are above 197


def test_at_threshold_by_hand():
    flags = np.array([1, 1, 0, 1, 0], bool)  # flagged: 0.5 (normal), 0.9 (anomaly), 0.7 (anomaly)
    got = at_threshold(flags, LABELS)
    assert got == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8})
    assert at_threshold(np.zeros(5, bool), LABELS) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_model_metrics_slices_and_missing_classes():
    frame = pd.DataFrame(
        {
            "household_id": ["a", "b", "c", "d", "e"],
            "day": [dt.date(2013, 10, 1)] * 5,
            "score": SCORES,
            "is_anomaly": [False, True, False, True, None],
            "anomaly_type": [None, "h1", None, "outage", None],
            "season": ["autumn", "autumn", "winter", "winter", "winter"],
            "acorn_group": ["Affluent", None, "Affluent", "Affluent", "Adversity"],
            "tariff": ["Std"] * 5,
        }
    )
    got = model_metrics(frame).set_index(["slice", "metric"])["value"]
    assert got[("overall", "auc_roc")] == pytest.approx(5 / 6)
    # h1 (0.9) against the three normals: ranked above all of them.
    assert got[("anomaly_type=h1", "auc_roc")] == pytest.approx(1.0)
    assert got[("anomaly_type=outage", "auc_roc")] == pytest.approx(2 / 3)
    assert got[("anomaly_type=outage", "n_days")] == 4
    # winter: 0.6 normal, 0.7 anomaly, 0.8 normal -> 1 of 2 pairs.
    assert got[("season=winter", "auc_roc")] == pytest.approx(0.5)
    assert got[("acorn_group=unknown", "n_anomalous")] == 1
    # Adversity has no anomaly: no AUC and no recall rows, but its size is there.
    assert ("acorn_group=Adversity", "auc_roc") not in got.index
    assert ("acorn_group=Adversity", "recall") not in got.index
    assert got[("acorn_group=Adversity", "n_days")] == 1
    assert not any(math.isnan(v) for v in got)


def test_precision_and_map_at_k_by_hand():
    # Best first: anomaly, normal, anomaly, normal, normal.
    assert precision_at_k(SCORES, LABELS, 1) == 1.0
    assert precision_at_k(SCORES, LABELS, 4) == pytest.approx(2 / 4)
    # Anomalies at ranks 1 and 3: (1/1 + 2/3) / 2.
    assert map_at_k(SCORES, LABELS, 3) == pytest.approx((1 + 2 / 3) / 2)
    assert map_at_k(SCORES, LABELS, 2) == pytest.approx(1.0)  # only the one at rank 1 is in the top 2
    assert map_at_k(-SCORES, LABELS, 2) == 0.0  # reversed: the top 2 are normal
    assert precision_at_k(SCORES, LABELS, 50) == pytest.approx(2 / 5)  # a month smaller than K: all of it


def test_inspection_is_per_month_and_its_mean_is_overall():
    frame = pd.DataFrame(
        {
            "household_id": list("abcdefgh"),
            "day": [dt.date(2013, 9, 2)] * 4 + [dt.date(2013, 10, 5)] * 4,
            "score": [4.0, 3.0, 2.0, 1.0, 4.0, 3.0, 2.0, 1.0],
            "anomaly_type": ["h1", None, None, None, None, None, None, "h2"],
        }
    )
    got = {(s, m): v for s, m, v in monthly_inspection(frame, ks=(2,))}
    assert got[("month=2013-09", "precision_at_2")] == 0.5 and got[("month=2013-09", "map_at_2")] == 1.0
    assert got[("month=2013-10", "precision_at_2")] == 0.0 and got[("month=2013-10", "map_at_2")] == 0.0
    assert got[("overall", "precision_at_2")] == 0.25 and got[("overall", "map_at_2")] == 0.5
