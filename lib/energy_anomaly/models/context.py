"""How far from its usual a household's ordinary day is expected to be, given the day's context.

A household's day is judged against its own previous weeks (features.core). Some days are unlike
those weeks for a reason every household shares: the weather turned (a cold snap puts heating
and lighting on: on a day 5 degrees colder than the month before, the day's total and its
always-on load are half again as far from their usual, fitted on the 2013 LCL households), or it
is a weekend or a bank holiday (at home at other hours). Such a day is explained by its context, not anomalous.

``ContextScale`` learns from training days, without labels, how the magnitude of each detector
input grows with the context: a non-negative least-squares fit of |z| on

    1, degrees colder than the previous 28 days, degrees warmer, weekend, bank holiday

per input. A day's input is divided by its expected magnitude relative to an ordinary day's (the
intercept), so a statistic that is usually far off on cold days needs to be further off on one
to isolate. The coefficients are non-negative: context only ever explains a day, it never makes
an ordinary day suspect (training's bank holidays, quieter than other days, would otherwise
sharpen every later holiday). A context the training period did not hold (no bank holiday in
it, a kind of holiday it had none of) gets no allowance; a model trained on a full year learns
Christmas from the one before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from energy_anomaly.catalog import CONTEXT_COLUMNS

assert CONTEXT_COLUMNS == ("temperature_delta", "is_weekend", "is_holiday"), "context_matrix reads these"
# The terms after the intercept, in the order of a coefficient row.
TERMS = ("degrees_colder", "degrees_warmer", "weekend", "holiday")
# |z| above this counts as this in the fit: a few anomalous training days do not set the slope.
MAGNITUDE_CAP = 10.0


def context_matrix(features: pd.DataFrame) -> np.ndarray:
    """(n, 5): 1 and the ``TERMS`` of each row of gold/features (its ``CONTEXT_COLUMNS``); a day
    without weather counts as the weather of the weeks before (no change)."""
    delta = features["temperature_delta"].astype(float).fillna(0.0).to_numpy()
    return np.column_stack(
        [
            np.ones(len(features)),
            np.maximum(-delta, 0.0),
            np.maximum(delta, 0.0),
            features["is_weekend"].to_numpy(float),
            features["is_holiday"].to_numpy(float),
        ]
    )


@dataclass(frozen=True)
class ContextScale:
    """Per detector input (in the forest's column order), the coefficients [ordinary, *TERMS]."""

    coefficients: tuple[tuple[float, ...], ...]

    @classmethod
    def fit(cls, magnitudes: np.ndarray, features: pd.DataFrame) -> "ContextScale":
        context = context_matrix(features)
        capped = np.minimum(magnitudes, MAGNITUDE_CAP)
        return cls(tuple(tuple(float(c) for c in nnls(context, capped[:, j])[0]) for j in range(capped.shape[1])))

    def relative(self, features: pd.DataFrame) -> np.ndarray:
        """(n, inputs): each row's expected magnitude over an ordinary day's, >= 1 (1 where an
        input's ordinary magnitude is 0: nothing to scale)."""
        g = np.array(self.coefficients, dtype=float).T  # (5, inputs)
        ordinary = g[0]
        expected = context_matrix(features) @ g
        return np.where(ordinary > 0, expected / np.where(ordinary > 0, ordinary, 1.0), 1.0)

    def to_json(self) -> dict:
        return {"terms": ["ordinary", *TERMS], "coefficients": [list(row) for row in self.coefficients]}

    @classmethod
    def from_json(cls, document: dict) -> "ContextScale":
        if tuple(document["terms"]) != ("ordinary", *TERMS):
            raise ValueError(f"context terms {document['terms']} are not this version's {['ordinary', *TERMS]}")
        return cls(tuple(tuple(float(c) for c in row) for row in document["coefficients"]))
