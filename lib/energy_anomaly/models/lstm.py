"""LSTM forecaster (Keras): the day's profile from the household's previous 7 days; score = MSE."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_anomaly.models.inputs import HISTORY_DAYS, SLOTS, day_windows, profile_matrix
from energy_anomaly.models.keras_runtime import KerasDetector, infer, keras


def _transform(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.clip(x, 0.0, None))


def windows_of(features: pd.DataFrame) -> np.ndarray:
    """Precomputed ``history`` (7 × 48 flattened) when the rows carry it, else built here."""
    if "history" in features.columns:
        return np.array([np.asarray(h, dtype=float) for h in features["history"]]).reshape(-1, HISTORY_DAYS, SLOTS)
    return day_windows(features)


def build(units: int = 48, dropout: float = 0.1):
    k = keras()
    inputs = k.Input((HISTORY_DAYS, SLOTS))
    x = k.layers.LSTM(units, dropout=dropout)(inputs)
    x = k.layers.Dense(SLOTS, activation="relu")(x)
    outputs = k.layers.Dense(SLOTS)(x)
    model = k.Model(inputs, outputs, name="lstm_forecaster")
    model.compile(optimizer=k.optimizers.Adam(1e-3), loss="mse")
    return model


@dataclass
class LstmForecaster(KerasDetector):
    def fit(self, features: pd.DataFrame) -> "LstmForecaster":
        """``features``: whole households sorted by day (windows look back 7 calendar days);
        only rows with ``is_train`` (default: all complete rows) are training targets."""
        keras(seed=self.seed)
        windows, target = _transform(windows_of(features)), _transform(profile_matrix(features))
        train = features["is_train"].to_numpy(bool) if "is_train" in features else features["is_complete"].to_numpy(bool)
        self.fit_model(build(), windows[train], target[train])
        return self

    def forecast(self, features: pd.DataFrame, batch_size: int = 4096) -> np.ndarray:
        """The expected profile of each day, in household units (× ``level`` gives kWh)."""
        return np.expm1(infer(self.model, _transform(windows_of(features)), batch_size))

    def score(self, features: pd.DataFrame, batch_size: int = 4096, forecast: np.ndarray | None = None) -> np.ndarray:
        """Forecast error; pass ``forecast`` when it was already computed for these rows."""
        expected = _transform(self.forecast(features, batch_size) if forecast is None else forecast)
        actual = _transform(profile_matrix(features))
        return ((expected - actual) ** 2).mean(axis=1)
