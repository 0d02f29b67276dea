"""Drift of a scoring run against training (pandas): population stability index and flagged rate.

A run's scores are binned at the training distribution's deciles (the quantiles each bundle
records for its calibration), so each bin held a tenth of the training days; the population
stability index (PSI) sums ``(actual - expected) * ln(actual / expected)`` over the bins. The
usual reading: below 0.1 stable, 0.1-0.2 a moderate shift, above 0.2 a significant one.

Scores alone miss a shift the detectors are built to ignore: each household is judged against
its own recent days, so households whose whole level moves (a third of them bypassing part of
their load for months) score as usual after a few weeks. So each household's median log daily
kWh over the run's days is also compared with its median over the model's training period; the
population's common move (the season) is taken out, and a household has ``moved`` when what is
left is beyond a 50 % change and beyond 3 standard errors of its own day-to-day spread (one day
of a daily update must move far, a season of days a little less). ``moved_share``: the share of
the slice's households with a training-period baseline that moved.

A row is marked ``drift`` when its PSI is above 0.2, it flags more than 3x the training share of
days, or more than 10 % of its households moved;
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
MOVED_SHARE_DRIFT = 0.1
MOVED_LOG_CHANGE = float(np.log(1.5))
MOVED_STANDARD_ERRORS = 3.0
# A median's standard error is ~1.253 sigma / sqrt(n); sigma from the interquartile range / 1.349.
MEDIAN_SE_FACTOR = 1.253 / 1.349
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


def is_drift(
    days: int, psi_value: float, flagged_rate: float, training_flagged_rate: float, moved_share: float = 0.0
) -> bool | None:
    if days < MIN_DAYS:
        return None
    return bool(
        psi_value > PSI_DRIFT
        or flagged_rate > FLAGGED_RATE_DRIFT * training_flagged_rate
        or moved_share > MOVED_SHARE_DRIFT
    )


def moved_households(levels: pd.DataFrame) -> pd.Series:
    """``levels``: per household its training ``base`` (median log daily kWh), ``spread`` (its
    interquartile range) and the run's ``now`` (median) over ``n`` days. True where it moved."""
    shift = levels["now"] - levels["base"]
    change = shift - shift.median()  # the season, or anything else every household did
    standard_error = MEDIAN_SE_FACTOR * levels["spread"].clip(lower=0.05) / np.sqrt(levels["n"].clip(lower=1))
    return (change.abs() > MOVED_LOG_CHANGE) & (change.abs() > MOVED_STANDARD_ERRORS * standard_error)


def slices_of(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """``overall``, then one slice per ACORN group and per tariff (``acorn_group=Affluent``), as in gold/metrics."""
    out = [("overall", frame)]
    for column in ("acorn_group", "tariff"):
        values = frame[column].fillna("unknown")
        out += [(f"{column}={value}", frame[values == value]) for value in sorted(values.unique())]
    return out


def binned_psi(quantiles: np.ndarray | None, part: pd.DataFrame) -> float:
    """PSI of ``part``'s ``days`` per ``bucket`` against the training ``quantiles``' bins."""
    if quantiles is None:
        return float("nan")  # a bundle from before this distribution was recorded
    edges = bin_edges(quantiles)
    actual = np.zeros(len(edges) + 1)
    for bucket, n in part.groupby("bucket")["days"].sum().items():
        actual[int(bucket)] += n
    return psi(training_shares(quantiles, edges), actual)


def monitoring_rows(
    counts: pd.DataFrame,
    levels: pd.DataFrame,
    completeness: pd.DataFrame,
    distributions,
) -> pd.DataFrame:
    """One row per model and slice.

    ``counts``: per model, bin, acorn_group and tariff, the scored ``days`` and how many were
    ``flagged``. ``levels``: per household with a training-period baseline, ``acorn_group``,
    ``tariff`` and the columns ``moved_households`` reads. ``completeness``: rows with an acorn_group
    and tariff (per group, or per household), the household-days of the period (``days``) and how
    many were complete enough to score (``complete``), summed per slice. ``distributions``: the
    bundle's ``TrainingDistributions``."""
    rows = []
    training_flagged_rate = distributions.flagged_rate
    complete_slices = dict(slices_of(completeness))
    moved = {
        name: (float(part["moved"].mean()) if len(part) else float("nan"))
        for name, part in slices_of(levels.assign(moved=moved_households(levels) if len(levels) else []))
    }
    for model in sorted(counts["model"].unique()):
        for name, part in slices_of(counts[counts["model"] == model]):
            days = int(part["days"].sum())
            flagged_rate = float(part["flagged"].sum() / days) if days else float("nan")
            value = binned_psi(distributions.scores.get(model), part)
            share = moved.get(name, float("nan"))
            period = complete_slices.get(name)
            whole = int(period["days"].sum()) if period is not None else 0
            rows.append(
                {
                    "model": model,
                    "slice": name,
                    "days": days,
                    "psi": value,
                    "moved_share": share,
                    "flagged_rate": flagged_rate,
                    "training_flagged_rate": training_flagged_rate,
                    "completeness": float(period["complete"].sum() / whole) if whole else float("nan"),
                    "drift": is_drift(
                        days,
                        0.0 if np.isnan(value) else value,
                        flagged_rate,
                        training_flagged_rate,
                        0.0 if np.isnan(share) else share,
                    ),
                }
            )
    return pd.DataFrame(rows)


def drifting(rows: pd.DataFrame | None) -> pd.DataFrame:
    """The rows whose ``drift`` is true. A column of flags is ``object`` (True, False, None: not
    judged) or, where every slice was judged, numpy ``bool``: compare by value, not identity."""
    if rows is None or rows.empty:
        return pd.DataFrame(columns=["model", "slice", "drift"])
    return rows[rows["drift"].map(lambda flag: not pd.isna(flag) and bool(flag))]


def drifting_models(rows: pd.DataFrame | None) -> list[str]:
    """The models whose overall row of a run says drift."""
    found = drifting(rows)
    return sorted(found.loc[found["slice"] == "overall", "model"])
