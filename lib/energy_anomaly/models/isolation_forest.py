"""IsolationForest on household-relative day features (scikit-learn)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from energy_anomaly.models.inputs import IF_FEATURES, feature_matrix


@dataclass
class IsolationForestDetector:
    n_estimators: int = 300
    max_samples: int = 512
    seed: int = 42
    fill: dict[str, float] = field(default_factory=dict)
    model: IsolationForest | None = None

    def fit(self, features: pd.DataFrame) -> "IsolationForestDetector":
        self.fill = {c: float(v) for c, v in features[IF_FEATURES].astype(float).median().fillna(0.0).items()}
        self.model = IsolationForest(
            n_estimators=self.n_estimators, max_samples=min(self.max_samples, len(features)),
            random_state=self.seed, n_jobs=1,
        ).fit(feature_matrix(features, self.fill))
        return self

    def score(self, features: pd.DataFrame) -> np.ndarray:
        return -self.model.score_samples(feature_matrix(features, self.fill))
