"""IsolationForest on how far the day's statistics are from the household's own history (scikit-learn)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from energy_anomaly.models.inputs import feature_matrix


@dataclass
class IsolationForestDetector:
    n_estimators: int = 300
    max_samples: int = 1024
    seed: int = 42
    model: IsolationForest | None = None

    def fit(self, features: pd.DataFrame) -> "IsolationForestDetector":
        self.model = IsolationForest(
            n_estimators=self.n_estimators, max_samples=min(self.max_samples, len(features)),
            random_state=self.seed, n_jobs=1,
        ).fit(feature_matrix(features))
        return self

    def score(self, features: pd.DataFrame) -> np.ndarray:
        return -self.model.score_samples(feature_matrix(features))
