"""Drift of a scoring run against training (pandas): population stability index and flagged rate.

A run's scores are binned at the training distribution's deciles (the quantiles each bundle
records for its calibration), so each bin held a tenth of the training days; the population
stability index (PSI) sums ``(actual - expected) * ln(actual / expected)`` over the bins. The
usual reading: below 0.1 stable, 0.1-0.2 a moderate shift, above 0.2 a significant one. A run is
marked ``drift`` when its PSI is above 0.2 or it flags more than 3x the training share of days;
a slice with fewer than ``MIN_DAYS`` scored days is not judged (its PSI is printed, its ``drift``
is null): ten bins of a few dozen days swing by more than 0.2 on their own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BINS = 10
PSI_DRIFT = 0.2
FLAGGED_RATE_DRIFT = 3.0
MIN_DAYS = 100
# Share floor of an empty bin: ln(0) would make one empty bin infinitely surprising.
SHARE_FLOOR = 1e-4


def bin_edges(quantiles: np.ndarray) -> np.ndarray:
    """The training distribution's inner deciles, without repeats (a constant stretch of scores
    would otherwise give empty bins on both sides)."""
    quantiles = np.asarray(quantiles, dtype=float)
    probabilities = np.linspace(0.0, 1.0, len(quantiles))
    return np.unique(np.interp(np.arange(1, BINS) / BINS, probabilities, quantiles))


def bin_of(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The bin of each score: how many edges lie strictly below it (Spark computes the same sum)."""
    return np.searchsorted(edges, scores, side="left")


def training_shares(quantiles: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of the training distribution in each bin (the recorded quantiles are evenly spaced in
    probability, so each stands for the same share of training days)."""
    counts = np.bincount(bin_of(np.asarray(quantiles, dtype=float), edges), minlength=len(edges) + 1)
    return counts / counts.sum()


def psi(expected: np.ndarray, actual_counts: np.ndarray) -> float:
    actual = np.asarray(actual_counts, dtype=float)
    if actual.sum() == 0:
        return float("nan")
    e = np.maximum(np.asarray(expected, dtype=float), SHARE_FLOOR)
    a = np.maximum(actual / actual.sum(), SHARE_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def is_drift(days: int, psi_value: float, flagged_rate: float, training_flagged_rate: float) -> bool | None:
    if days < MIN_DAYS:
        return None
    return bool(psi_value > PSI_DRIFT or flagged_rate > FLAGGED_RATE_DRIFT * training_flagged_rate)


def slices_of(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """``overall``, then one slice per ACORN group and per tariff (``acorn_group=Affluent``), as in gold/metrics."""
    out = [("overall", frame)]
    for column in ("acorn_group", "tariff"):
        values = frame[column].fillna("unknown")
        out += [(f"{column}={value}", frame[values == value]) for value in sorted(values.unique())]
    return out


def monitoring_rows(
    counts: pd.DataFrame,
    completeness: pd.DataFrame,
    distributions: dict[str, np.ndarray],
    training_flagged_rate: float,
) -> pd.DataFrame:
    """One row per model and slice.

    ``counts``: per model, bin, acorn_group and tariff, the scored ``days`` and how many were
    ``flagged``. ``completeness``: per acorn_group and tariff, the household-days of the period
    (``days``) and how many were complete enough to score (``complete``)."""
    rows = []
    complete_slices = dict(slices_of(completeness))
    for model in sorted(counts["model"].unique()):
        quantiles = distributions.get(model)
        edges = bin_edges(quantiles) if quantiles is not None else None
        for name, part in slices_of(counts[counts["model"] == model]):
            days = int(part["days"].sum())
            flagged_rate = float(part["flagged"].sum() / days) if days else float("nan")
            if edges is None:
                value = float("nan")  # a bundle from before training distributions were recorded
            else:
                actual = np.zeros(len(edges) + 1)
                for bucket, n in part.groupby("bucket")["days"].sum().items():
                    actual[int(bucket)] += n
                value = psi(training_shares(quantiles, edges), actual)
            period = complete_slices.get(name)
            whole = int(period["days"].sum()) if period is not None else 0
            rows.append(
                {
                    "model": model,
                    "slice": name,
                    "days": days,
                    "psi": value,
                    "flagged_rate": flagged_rate,
                    "training_flagged_rate": training_flagged_rate,
                    "completeness": float(period["complete"].sum() / whole) if whole else float("nan"),
                    "drift": None if np.isnan(value) else is_drift(days, value, flagged_rate, training_flagged_rate),
                }
            )
    return pd.DataFrame(rows)
