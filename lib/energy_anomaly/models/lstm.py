"""LSTM forecaster (Keras): the day's profile from the household's previous 7 days.

The network forecasts a correction to the mean of the 7 days (a residual connection): half-hourly
readings are noisy enough that the plain window mean is a strong forecast, and the LSTM starts
from it instead of having to learn it. The score is household-relative: three terms, each in
units of how much this household's own days vary (the window's 7 days):

    score = MSE(log1p actual, log1p forecast) / (the window's day-to-day MSE + 0.001)
            + (log(day total / the household's typical day) / (sd of the window's log totals + 0.1))²
            + (log(day texture / the window's texture) / (sd of the window days' log textures + 0.1))²

- **shape**: the forecast error. An erratic household is not flagged for being erratic.
- **level**: profiles are in household units (1 = the household's typical half-hour over the last
  28 days, ``features.core``), so a typical day totals 48. The forecast's own total is not the
  yardstick: a 7-day forecast follows a level shift from its second day on.
- **texture**: the mean step between consecutive half-hours (log1p). A forecast is smooth, so a day
  flattened to its mean or stuck on one value sits *closer* to it than a real, noisy day, and the
  shape term cannot see it.

Dividing level and texture by the household's own spread (instead of fixed weights) is what keeps
a household whose days swing from being flagged for swinging.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_anomaly.models.inputs import HISTORY_DAYS, SLOTS, SPREAD_FLOOR, profile_matrix, windows_of
from energy_anomaly.models.keras_runtime import KerasDetector, compile_for_training, infer, keras

DISPERSION_FLOOR = 1e-3
TEXTURE_FLOOR = 1e-2


def _transform(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.clip(x, 0.0, None))


def _texture(x: np.ndarray) -> np.ndarray:
    """Mean absolute step between consecutive half-hours + floor, per day: (..., 48) -> (...)."""
    return np.abs(np.diff(x, axis=-1)).mean(axis=-1) + TEXTURE_FLOOR


def forecast_error(actual: np.ndarray, expected: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """The score above, from profiles in household units: (n, 48), (n, 48), (n, 7, 48)."""
    history, day = _transform(windows), _transform(actual)
    dispersion = ((history - history.mean(axis=1, keepdims=True)) ** 2).mean(axis=(1, 2))
    shape = ((_transform(expected) - day) ** 2).mean(axis=1)
    window_totals = np.log1p(np.clip(windows, 0.0, None).sum(axis=2))
    level = (np.log1p(np.clip(actual, 0.0, None).sum(axis=1)) - np.log1p(float(SLOTS))) / (
        window_totals.std(axis=1) + SPREAD_FLOOR
    )
    window_textures = _texture(history)
    texture = (np.log(_texture(day)) - np.log(window_textures.mean(axis=1))) / (
        np.log(window_textures).std(axis=1) + SPREAD_FLOOR
    )
    return shape / (dispersion + DISPERSION_FLOOR) + level**2 + texture**2


def build(units: int = 48, dropout: float = 0.1):
    k = keras()
    inputs = k.Input((HISTORY_DAYS, SLOTS))
    x = k.layers.LSTM(units, dropout=dropout)(inputs)
    x = k.layers.Dense(SLOTS, activation="relu")(x)
    correction = k.layers.Dense(SLOTS)(x)
    window_mean = k.layers.GlobalAveragePooling1D()(inputs)  # mean over the 7 days, per slot
    outputs = k.layers.Add()([window_mean, correction])
    model = k.Model(inputs, outputs, name="lstm_forecaster")
    compile_for_training(model)
    return model


@dataclass
class LstmForecaster(KerasDetector):
    def fit(self, features: pd.DataFrame) -> "LstmForecaster":
        """``features``: whole households sorted by day (windows look back 7 calendar days);
        only rows with ``is_train`` (default: all complete rows) are training targets."""
        keras(seed=self.seed)
        windows, target = _transform(windows_of(features)), _transform(profile_matrix(features))
        train = (
            features["is_train"].to_numpy(bool) if "is_train" in features else features["is_complete"].to_numpy(bool)
        )
        self.fit_model(build(), windows[train], target[train])
        return self

    def forecast(self, features: pd.DataFrame, batch_size: int = 4096, windows: np.ndarray | None = None) -> np.ndarray:
        """The expected profile of each day, in household units (× ``level`` gives kWh)."""
        windows = windows_of(features) if windows is None else windows
        return np.expm1(infer(self.model, _transform(windows), batch_size))

    def score(
        self,
        features: pd.DataFrame,
        batch_size: int = 4096,
        forecast: np.ndarray | None = None,
        windows: np.ndarray | None = None,
    ) -> np.ndarray:
        """Forecast error; pass ``forecast``/``windows`` when already computed for these rows."""
        windows = windows_of(features) if windows is None else windows
        expected = self.forecast(features, batch_size, windows) if forecast is None else forecast
        return forecast_error(profile_matrix(features), expected, windows)
