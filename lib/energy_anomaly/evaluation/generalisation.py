"""Does detection hold on what it was not tuned to? Leave-one-type-out and bootstrap intervals (pandas).

Input: one row per scored household-day with its label (``anomaly_type``, null when normal) and
each detector's calibrated surprisal (``models.ensemble.Calibration``), as ``cases_with_surprisals``
builds from ``gold/anomaly_scores`` and a bundle's calibrations.

**Leave one type out.** The candidate configurations are each detector alone and the ways to fuse
the surprisals of two or three of them (``FUSIONS``). For each anomaly type t, a configuration is chosen by its mean
AUC-ROC over the *other* types, and t's AUC-ROC under that choice is t's held-out figure: what a
configuration tuned on the labels one has would do on a kind of anomaly nobody labelled.

**Intervals.** Households are resampled with replacement (a household's days stay together: its
days are not independent), ``BOOTSTRAP_ROUNDS`` times; the 2.5 and 97.5 percentiles of a figure
over the rounds are its 95 % interval. With several protocol runs (injection seeds), each round
resamples each run's households and averages the runs, so the interval is that of the mean.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from energy_anomaly.catalog import ENSEMBLE, MODELS
from energy_anomaly.evaluation.metrics import auc_pr, auc_roc
from energy_anomaly.models.ensemble import Calibration

BOOTSTRAP_ROUNDS = 200
OVERALL = "overall"


# Rules that fuse detectors' surprisals (columns of the array) without labels.
FUSIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": lambda s: s.mean(axis=1),
    "max": lambda s: s.max(axis=1),
}


def cases_with_surprisals(
    scores: pd.DataFrame, labels: pd.DataFrame, calibrations: dict[str, Calibration]
) -> pd.DataFrame:
    """``gold/anomaly_scores`` rows (``household_id``, ``day``, ``model``, ``score``, ``is_anomaly``)
    and labels (``household_id``, ``day``, ``anomaly_type``) -> one row per household-day:
    ``anomaly_type``, ``ensemble`` (the scored ensemble), ``flagged`` (the ensemble's flag) and each
    detector's surprisal."""
    key = ["household_id", "day"]
    wide = scores.pivot_table(index=key, columns="model", values="score", aggfunc="first").reset_index()
    for model in MODELS:
        wide[model] = calibrations[model].surprisal(wide[model].to_numpy(float))
    flags = scores.loc[scores["model"] == ENSEMBLE, [*key, "is_anomaly"]].rename(columns={"is_anomaly": "flagged"})
    keyed = labels[[*key, "anomaly_type"]].drop_duplicates(key)
    out = wide.merge(flags, on=key, how="left").merge(keyed, on=key, how="left")
    out["flagged"] = out["flagged"].eq(True)
    return out[[*key, "anomaly_type", ENSEMBLE, "flagged", *MODELS]].sort_values(key, ignore_index=True)


def configurations(cases: pd.DataFrame) -> dict[str, np.ndarray]:
    """Score of every candidate configuration: each detector alone, each fusion rule over every
    set of two or more detectors (``mean:a+b``), and the scored ensemble."""
    out = {model: cases[model].to_numpy(float) for model in MODELS}
    for size in range(2, len(MODELS) + 1):
        for members in itertools.combinations(MODELS, size):
            surprisals = cases[list(members)].to_numpy(float)
            for name, rule in FUSIONS.items():
                out[f"{name}:{'+'.join(members)}"] = rule(surprisals)
    out[ENSEMBLE] = cases[ENSEMBLE].to_numpy(float)
    return out


def per_type_auc(score: np.ndarray, anomaly_type: np.ndarray, types: list[str]) -> dict[str, float]:
    """AUC-ROC of each type against every normal day, and overall."""
    normal = pd.isna(anomaly_type)
    out = {OVERALL: auc_roc(score, ~normal)}
    for kind in types:
        mask = normal | (anomaly_type == kind)
        out[kind] = auc_roc(score[mask], (anomaly_type[mask] == kind))
    return out


@dataclass(frozen=True)
class HeldOut:
    anomaly_type: str
    chosen: str  # the configuration the other types' labels choose
    auc_roc: float  # the held-out type's AUC under that choice


def leave_one_type_out(cases: pd.DataFrame, candidates: list[str] | None = None) -> list[HeldOut]:
    """For each type, the configuration with the best mean AUC-ROC over the other types, and the
    held-out type's AUC-ROC under it. ``candidates``: configuration names (default: all but the
    scored ensemble, which is one of the fusions)."""
    scores = configurations(cases)
    candidates = candidates or [name for name in scores if name != ENSEMBLE]
    kinds = cases["anomaly_type"].to_numpy(object)
    types = sorted(cases["anomaly_type"].dropna().unique())
    table = {name: per_type_auc(scores[name], kinds, types) for name in candidates}
    out = []
    for held in types:
        others = [t for t in types if t != held]
        chosen = max(candidates, key=lambda name: (np.nanmean([table[name][t] for t in others]), name))
        out.append(HeldOut(held, chosen, table[chosen][held]))
    return out


def _household_rows(cases: pd.DataFrame) -> list[np.ndarray]:
    codes = cases["household_id"].astype("category").cat.codes.to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, bounds)


def bootstrap(
    runs: list[pd.DataFrame],
    score_of: Callable[[pd.DataFrame], np.ndarray],
    *,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
) -> pd.DataFrame:
    """Point estimate and 95 % interval of AUC-ROC (overall and per type) and AUC-PR (overall) of
    ``score_of(run)``, averaged over ``runs``, households resampled within each run.
    Returns rows ``figure, value, low, high``."""
    rng = np.random.default_rng(seed)
    types = sorted(set().union(*(set(r["anomaly_type"].dropna()) for r in runs)))
    prepared = []
    for run in runs:
        prepared.append((score_of(run), run["anomaly_type"].to_numpy(object), _household_rows(run)))

    def figures(rows_of_run: list[np.ndarray]) -> dict[str, float]:
        per_run = []
        for (score, kinds, _), rows in zip(prepared, rows_of_run):
            s, k = score[rows], kinds[rows]
            got = {f"auc_roc:{name}": v for name, v in per_type_auc(s, k, types).items()}
            got["auc_pr:overall"] = auc_pr(s, ~pd.isna(k))
            per_run.append(got)
        # A round whose households hold none of a type has no AUC for it: that figure's mean is over
        # the runs that have one, and a round with none at all is left out of its interval.
        means = {}
        for name in per_run[0]:
            values = [r[name] for r in per_run if not np.isnan(r.get(name, np.nan))]
            means[name] = float(np.mean(values)) if values else np.nan
        return means

    point = figures([np.arange(len(score)) for score, _, _ in prepared])
    samples = []
    for _ in range(rounds):
        drawn = []
        for _, _, households in prepared:
            picks = rng.integers(len(households), size=len(households))
            drawn.append(np.concatenate([households[i] for i in picks]))
        samples.append(figures(drawn))
    sampled = pd.DataFrame(samples)
    return pd.DataFrame(
        [
            (name, value, float(sampled[name].quantile(0.025)), float(sampled[name].quantile(0.975)))
            for name, value in point.items()
        ],
        columns=["figure", "value", "low", "high"],
    )
