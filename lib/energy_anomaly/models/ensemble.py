"""Calibration and the ensemble.

Each model's raw scores are calibrated against its scores on the clean training sample: the
empirical CDF (stored as 1,001 quantiles) turns a score into a surprisal ``-log10(1 - F(s))``,
capped by the training size. The ensemble is the mean surprisal of the three models: one model
that is very sure outweighs two that see nothing, but no single model's scale dominates.
Thresholds are the ``threshold_quantile`` (default 0.99) of each model's, and the ensemble's,
training scores: on clean data about 1 % of household-days are flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUANTILE_POINTS = 1001


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
        return -np.log10(np.maximum(1.0 - cdf, floor))


def ensemble_score(surprisals: list[np.ndarray]) -> np.ndarray:
    return np.mean(np.vstack(surprisals), axis=0)


def threshold(train_scores: np.ndarray, quantile: float) -> float:
    return float(np.quantile(train_scores, quantile))
