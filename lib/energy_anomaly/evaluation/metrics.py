"""Detection metrics of one model's scores against labels (numpy/pandas, no Spark).

| metric | meaning |
| --- | --- |
| ``auc_roc`` | probability a random anomalous day scores above a random normal day (ties count half) |
| ``auc_pr`` | average precision: mean over anomalous days of the precision at their score |
| ``precision``, ``recall``, ``f1`` | of the model's own flags (``score > threshold``) |
| ``recall_at_1pct_fpr`` | share of anomalous days above the score that flags at most 1 % of normal days |
| ``n_days``, ``n_anomalous``, ``flagged`` | the slice's size, its labelled days, the days flagged |

A slice without both classes has no AUC (NaN rows are not written); precision without flags is
0 by convention, as scikit-learn does.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

FPR_BUDGET = 0.01
# Labels, then the context slices: each value of these columns is a slice of its own.
SLICE_COLUMNS = ("season", "acorn_group", "tariff")


def auc_roc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann-Whitney U / (n_pos × n_neg), with average ranks for ties."""
    labels = labels.astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def auc_pr(scores: np.ndarray, labels: np.ndarray) -> float:
    """Average precision: Σ over thresholds (recall_k - recall_{k-1}) × precision_k, tied scores
    taken together (the step-wise area scikit-learn's ``average_precision_score`` computes)."""
    labels = labels.astype(bool)
    n_pos = int(labels.sum())
    if n_pos == 0 or n_pos == len(labels):
        return math.nan
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    last_of_tie = np.r_[s[1:] != s[:-1], True]
    true_pos = np.cumsum(y)[last_of_tie]
    flagged = (np.arange(len(s)) + 1)[last_of_tie]
    recall = true_pos / n_pos
    precision = true_pos / flagged
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def recall_at_fpr(scores: np.ndarray, labels: np.ndarray, budget: float = FPR_BUDGET) -> float:
    labels = labels.astype(bool)
    negatives = np.sort(scores[~labels])[::-1]
    if labels.sum() == 0 or len(negatives) == 0:
        return math.nan
    allowed = int(math.floor(budget * len(negatives)))  # normal days that may score above the cut
    cut = negatives[allowed] if allowed < len(negatives) else -np.inf
    return float((scores[labels] > cut).mean())


def at_threshold(flags: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    flags, labels = flags.astype(bool), labels.astype(bool)
    true_pos = int((flags & labels).sum())
    precision = true_pos / flags.sum() if flags.sum() else 0.0
    if not labels.any():
        return {"precision": float(precision), "recall": math.nan, "f1": math.nan}
    recall = true_pos / labels.sum()
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}


def slice_metrics(scores: np.ndarray, flags: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    return {
        "auc_roc": auc_roc(scores, labels),
        "auc_pr": auc_pr(scores, labels),
        **at_threshold(flags, labels),
        "recall_at_1pct_fpr": recall_at_fpr(scores, labels),
        "n_days": float(len(labels)),
        "n_anomalous": float(labels.astype(bool).sum()),
        "flagged": float(flags.astype(bool).sum()),
    }


def slices(frame: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """(name, row mask) of every slice. ``anomaly_type=X`` holds the days of type X and every normal
    day (how well X is told from normal); context slices hold all days with that value."""
    out = [("overall", np.ones(len(frame), bool))]
    normal = frame["anomaly_type"].isna().to_numpy()
    for kind in sorted(frame["anomaly_type"].dropna().unique()):
        out.append((f"anomaly_type={kind}", normal | (frame["anomaly_type"] == kind).to_numpy()))
    for column in SLICE_COLUMNS:
        values = frame[column].fillna("unknown")
        for value in sorted(values.unique()):
            out.append((f"{column}={value}", (values == value).to_numpy()))
    return out


def model_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """One model's scored days (``score``, ``is_anomaly``, ``anomaly_type`` null when normal, and
    the slice columns) -> long rows (``slice``, ``metric``, ``value``), NaN metrics left out."""
    scores = frame["score"].to_numpy(float)
    flags = frame["is_anomaly"].eq(True).to_numpy()
    labels = frame["anomaly_type"].notna().to_numpy()
    rows = []
    for name, mask in slices(frame):
        for metric, value in slice_metrics(scores[mask], flags[mask], labels[mask]).items():
            if not math.isnan(value):
                rows.append((name, metric, value))
    return pd.DataFrame(rows, columns=["slice", "metric", "value"])
