"""Calibration and the ensemble.

Each model's raw scores are calibrated against its scores on the clean training sample: the
empirical CDF (stored as 1,001 quantiles) turns a score into a surprisal ``-log10(1 - F(s))``.
Beyond the largest training score the CDF says nothing more (every such day would tie at
``log10(n + 1)``), so the tail goes on as an exponential fitted to the top 1 % of the training
scores: surprisal grows linearly with the score there, and the days an investigator sees first
stay in the forest's order. The ensemble is the mean surprisal of its members; a bundle records
its members, so one trained with other members keeps fusing (and thresholding) as it was trained.

Its one member now is the isolation forest. The LSTM forecaster and the Conv1D autoencoder are
scored and reported beside it but do not vote. Leave-one-type-out over 15 anomaly types and three
injection seeds (``benchmarks.generalisation``) showed what each adds on types it was not chosen
on:
- the autoencoder: nothing. With it, the three-model mean was 0.015 AUC-ROC below the forest alone
  overall and up to 0.072 below the best single detector on a type (ToU load shifting, stuck
  readings, time reversal, level shifts: what keeps a day's shape or total, to which a
  reconstruction of the day's shape is blind by design).
- the LSTM: once the forest read each statistic against the 10-90 percentile range of the
  household's history and the day's scale at every half-hour (``features.core``), the
  forest + LSTM mean was below the forest alone overall (AUC-ROC 0.912 against 0.918, AUC-PR 0.52
  against 0.59) and by 0.03-0.04 on stuck readings, time reversal, ToU shifting and clock offsets.
  It was above it on drift (0.72 against 0.67) and by 0.03 on Jokar's h1. Where a member gains on
  two types and loses on five, the forest alone is the better detector an investigator can read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUANTILE_POINTS = 1001
TAIL_POINTS = 11  # the stored quantiles of the top 1 %, whose mean excess is the exponential tail's scale
ENSEMBLE_MEMBERS = ("isolation_forest",)
# Bundles trained before bundles recorded their members fused all three: their thresholds are of that.
FORMER_MEMBERS = ("isolation_forest", "conv1d_autoencoder", "lstm_forecaster")


@dataclass(frozen=True)
class Calibration:
    quantiles: tuple[float, ...]  # training score quantiles at evenly spaced probabilities
    n_train: int

    @classmethod
    def fit(cls, train_scores: np.ndarray) -> "Calibration":
        probabilities = np.linspace(0.0, 1.0, QUANTILE_POINTS)
        return cls(tuple(float(q) for q in np.quantile(train_scores, probabilities)), int(len(train_scores)))

    def surprisal(self, scores: np.ndarray) -> np.ndarray:
        quantiles = np.asarray(self.quantiles)
        probabilities = np.linspace(0.0, 1.0, len(quantiles))
        cdf = np.interp(scores, quantiles, probabilities, left=0.0, right=1.0)
        floor = 1.0 / (self.n_train + 1)
        inside = -np.log10(np.maximum(1.0 - cdf, floor))
        top = quantiles[-TAIL_POINTS:]
        scale = float(np.mean(top - top[0]))  # mean excess over the 99th percentile
        if not scale > 0:  # a flat top: nothing to extrapolate from
            return inside
        # P(S > s) = floor * exp(-(s - max) / scale) beyond the training maximum, in -log10 units.
        return inside + np.maximum(np.asarray(scores, dtype=float) - quantiles[-1], 0.0) / (scale * np.log(10))


def ensemble_score(surprisals: list[np.ndarray]) -> np.ndarray:
    return np.mean(np.vstack(surprisals), axis=0)


def fuse(raw: dict[str, np.ndarray], calibrations: dict[str, Calibration], members: tuple[str, ...]) -> np.ndarray:
    """The ensemble score of raw detector scores: the mean surprisal of ``members``. Training
    (its calibration and threshold) and scoring both call this, so they fuse alike."""
    return ensemble_score([calibrations[name].surprisal(raw[name]) for name in members])


def threshold(train_scores: np.ndarray, quantile: float) -> float:
    return float(np.quantile(train_scores, quantile))
