"""Conv1D autoencoder on the day's 48-slot profile (Keras).

Score, two-sided and household-relative: with ``e`` the reconstruction MSE and ``l = log(e + 1e-4)``,

    score = |l(day) - mean l(previous 7 days)| / (sd of l over the 7 days + 0.1)

A day that reconstructs much worse than the household's recent days has a shape the household
does not make (shuffled, reversed, spiky); one that reconstructs much better has lost the
household's usual detail (flat, empty, stuck): what tampered, stalled or dead meters produce. The
household's own errors, their level and their spread, are the yardstick, so an erratic household is
not flagged for being erratic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_anomaly.models.inputs import HISTORY_DAYS, SLOTS, SPREAD_FLOOR, profile_matrix, windows_of
from energy_anomaly.models.keras_runtime import KerasDetector, compile_for_training, infer, keras

EPS = 1e-6
ERROR_FLOOR = 1e-4


def _transform(profiles: np.ndarray) -> np.ndarray:
    """The day's shape: values over the day's own mean, log1p to tame peaks.

    Why the day's own mean: in household units most theft lowers every value, and a smaller day
    reconstructs with a smaller error: it would look *more* normal. Level changes
    are the forecaster's and the IsolationForest's job; the autoencoder judges shape, and an
    all-zero day (outage) is unlike any shape it learned.
    """
    x = np.clip(profiles, 0.0, None)
    mean = x.mean(axis=1, keepdims=True)
    shape = np.where(mean > EPS, x / np.maximum(mean, EPS), 0.0)
    return np.log1p(shape)[..., None]


def build(filters: int = 16, latent_channels: int = 2, dropout: float = 0.1):
    """Encoder 48 -> 24 -> 12 slots, then a 12 x 2 code: 24 numbers for 48 values. A code as wide
    as its input (12 x 8 = 96) lets the network copy any day, anomalous or not; the narrow one keeps
    only the shapes households make."""
    k = keras()
    inputs = k.Input((SLOTS, 1))
    x = k.layers.Conv1D(filters, 5, padding="same", activation="relu")(inputs)
    x = k.layers.MaxPooling1D(2)(x)
    x = k.layers.Conv1D(filters // 2, 5, padding="same", activation="relu")(x)
    x = k.layers.MaxPooling1D(2)(x)
    x = k.layers.Conv1D(latent_channels, 3, padding="same", activation="relu", name="code")(x)
    x = k.layers.Dropout(dropout)(x)
    x = k.layers.Conv1D(filters // 2, 5, padding="same", activation="relu")(x)
    x = k.layers.UpSampling1D(2)(x)
    x = k.layers.Conv1D(filters, 5, padding="same", activation="relu")(x)
    x = k.layers.UpSampling1D(2)(x)
    outputs = k.layers.Conv1D(1, 5, padding="same")(x)
    model = k.Model(inputs, outputs, name="conv1d_autoencoder")
    compile_for_training(model)
    return model


@dataclass
class AutoencoderDetector(KerasDetector):
    def fit(self, features: pd.DataFrame) -> "AutoencoderDetector":
        keras(seed=self.seed)
        x = _transform(profile_matrix(features))
        self.fit_model(build(), x, x)
        return self

    def errors(self, profiles: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        x = _transform(profiles)
        return ((infer(self.model, x, batch_size) - x) ** 2).mean(axis=(1, 2))

    def score(self, features: pd.DataFrame, batch_size: int = 4096, windows: np.ndarray | None = None) -> np.ndarray:
        """The score above; pass ``windows`` when already computed for these rows.

        A window's days are mostly other rows of the same frame: each distinct profile is
        reconstructed once, not once per day and once more in every window that holds it."""
        windows = windows_of(features) if windows is None else windows
        rows = np.concatenate([profile_matrix(features), windows.reshape(-1, SLOTS)])
        distinct, inverse = distinct_rows(rows)
        errors = self.errors(distinct, batch_size)[inverse]
        error = np.log(errors[: len(features)] + ERROR_FLOOR)
        history = np.log(errors[len(features) :].reshape(-1, HISTORY_DAYS) + ERROR_FLOOR)
        return np.abs(error - history.mean(axis=1)) / (history.std(axis=1) + SPREAD_FLOOR)


def distinct_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(distinct, inverse)`` with ``distinct[inverse] == x``, rows compared by exact value.

    Rows are hashed through a fixed random projection (O(n), no sort), and every row is then
    checked against the first row of its group. Rows a few ulps apart can share a projection
    (the same day normalised by a household mean that moved in its last bits); those rows, and
    only those, are grouped again exactly among themselves."""
    probe = np.random.default_rng(0).standard_normal(x.shape[1])
    inverse, keys = pd.factorize(x @ probe)
    first = np.empty(len(keys), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(x) - 1, -1, -1)
    differs = (x[first][inverse] != x).any(axis=1)
    if not differs.any():
        return x[first], inverse
    rest, rest_inverse = np.unique(x[differs], axis=0, return_inverse=True)
    inverse = inverse.copy()
    inverse[differs] = len(first) + rest_inverse.reshape(-1)
    return np.concatenate([x[first], rest]), inverse
