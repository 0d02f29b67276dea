"""IsolationForest on how far the day's statistics are from the household's own history (scikit-learn)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from energy_anomaly.models.context import ContextScale
from energy_anomaly.models.inputs import IF_FEATURES, feature_matrix


@dataclass
class IsolationForestDetector:
    """``max_samples`` 4096: scikit-learn grows trees to depth log2(max_samples), 12 here, 10 at 1024,
    and estimates the rest of a path from the leaf's size. Deeper trees rank the rare against the
    very rare, which is where anomalies sit.

    Each input is first divided by what the day's context (weather, weekend, holiday) lets it be
    (``models.context``), learned on the same training days; a forest of an earlier version has
    no ``context`` and reads its inputs as they are."""

    n_estimators: int = 300
    max_samples: int = 4096
    seed: int = 42
    features: tuple[str, ...] = IF_FEATURES  # the gold/features columns it reads, in order
    context: ContextScale | None = None
    model: IsolationForest | None = None

    def fit(self, features: pd.DataFrame) -> "IsolationForestDetector":
        magnitudes = feature_matrix(features, self.features)
        self.context = ContextScale.fit(magnitudes, features)
        self.model = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, len(features)),
            random_state=self.seed,
            n_jobs=1,
        ).fit(magnitudes / self.context.relative(features))
        return self

    def inputs(self, features: pd.DataFrame) -> np.ndarray:
        """The matrix the forest isolates: the inputs' magnitudes over what the context explains."""
        magnitudes = feature_matrix(features, self.features)
        return magnitudes if self.context is None else magnitudes / self.context.relative(features)

    def score(self, features: pd.DataFrame) -> np.ndarray:
        return -self.model.score_samples(self.inputs(features))
