"""Detection metrics of one model's scores against labels (numpy/pandas, no Spark).

| metric | meaning |
| --- | --- |
| ``auc_roc`` | probability a random anomalous day scores above a random normal day (ties count half) |
| ``auc_pr`` | average precision: mean over anomalous days of the precision at their score |
| ``precision``, ``recall``, ``f1`` | of the model's own flags (``score > threshold``) |
| ``recall_at_1pct_fpr`` | share of anomalous days above the score that flags at most 1 % of normal days |
| ``n_days``, ``n_anomalous``, ``flagged`` | the slice's size, its labelled days, the days flagged |
| ``precision_at_K``, ``map_at_K`` | an investigator's month (K = 50, 100, 200; below) |

A slice without both classes has no AUC (NaN rows are not written); precision without flags is
0 by convention, as scikit-learn does.

Utilities inspect a fixed number of premises a month. ``precision_at_K`` is the share anomalous
of a month's K highest-scored household-days; ``map_at_K`` is the mean of the precision at each
anomalous one among them. Both are written per month
(slice ``month=YYYY-MM``) and, in the ``overall`` slice, as their mean over the period's months.
MAP@K is the measure of the SGCC theft-detection papers (Zheng et al. 2018, "Wide and Deep
Convolutional Neural Networks for Electricity-Theft Detection to Secure Smart Grids", IEEE Trans.
Ind. Informatics 14(4)): ``1/r Σ_i P@k_i`` over the r anomalous days among the top K, at their
ranks k_i; 0 when the top K holds none.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

FPR_BUDGET = 0.01
# Household-days a utility's investigators can look at in a month.
INSPECTIONS_PER_MONTH = (50, 100, 200)
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


def top_k(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Labels of the ``k`` highest scores, highest first (ties in the order given: callers sort
    their rows by key, so the order is reproducible)."""
    order = np.argsort(-scores, kind="stable")[:k]
    return labels.astype(bool)[order]


def precision_at_k(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    top = top_k(scores, labels, k)
    return float(top.mean()) if len(top) else math.nan


def map_at_k(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    top = top_k(scores, labels, k)
    if not len(top):
        return math.nan
    if not top.any():
        return 0.0
    ranks = np.flatnonzero(top) + 1
    return float(np.mean(np.cumsum(top)[ranks - 1] / ranks))


def monthly_inspection(
    frame: pd.DataFrame, ks: tuple[int, ...] = INSPECTIONS_PER_MONTH
) -> list[tuple[str, str, float]]:
    """(slice, metric, value) of precision@K and MAP@K for each month of ``frame`` (``day``,
    ``score``, ``anomaly_type``), and their mean over the months as slice ``overall``."""
    frame = frame.sort_values(["household_id", "day"], kind="stable")
    month = pd.to_datetime(frame["day"]).dt.strftime("%Y-%m").to_numpy()
    scores = frame["score"].to_numpy(float)
    labels = frame["anomaly_type"].notna().to_numpy()
    rows, per_metric = [], {}
    for value in sorted(set(month)):
        mask = month == value
        for k in ks:
            for name, metric in ((f"precision_at_{k}", precision_at_k), (f"map_at_{k}", map_at_k)):
                result = metric(scores[mask], labels[mask], k)
                rows.append((f"month={value}", name, result))
                per_metric.setdefault(name, []).append(result)
    rows += [("overall", name, float(np.mean(values))) for name, values in per_metric.items()]
    return rows


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
    """One model's scored days (``household_id``, ``day``, ``score``, ``is_anomaly``,
    ``anomaly_type`` null when normal, and the slice columns) -> long rows (``slice``, ``metric``,
    ``value``), NaN metrics left out."""
    scores = frame["score"].to_numpy(float)
    flags = frame["is_anomaly"].eq(True).to_numpy()
    labels = frame["anomaly_type"].notna().to_numpy()
    rows = []
    for name, mask in slices(frame):
        for metric, value in slice_metrics(scores[mask], flags[mask], labels[mask]).items():
            if not math.isnan(value):
                rows.append((name, metric, value))
    rows += monthly_inspection(frame)
    return pd.DataFrame(rows, columns=["slice", "metric", "value"])
