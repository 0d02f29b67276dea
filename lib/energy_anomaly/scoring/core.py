"""Scores one household's days (pandas): the body of the per-household Spark scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy_anomaly.catalog import SCORED_MODELS
from energy_anomaly.models.bundle import Bundle
from energy_anomaly.models.inputs import profile_matrix

TOP_SLOTS = 3
# Households per model call. A call's memory (7-day windows, reconstructions, forecasts) follows
# its rows, so a Spark group is scored in calls of this many households. That way a worker's
# memory does not grow with the group, which at the London shape holds 1/16 of all households.
# Fifty households is ~30K days per call, still large batches for the models.
HOUSEHOLDS_PER_CALL = 50


def in_kwh(frame: pd.DataFrame, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(actual, expected) half-hourly kWh of ``frame``'s days: profiles and the LSTM forecast are in
    household units, × ``level`` gives kWh."""
    level = frame["level"].to_numpy(float)[:, None]
    return profile_matrix(frame) * level, forecast * level


def score_households(frame: pd.DataFrame, bundle: Bundle, start, end) -> pd.DataFrame:
    """``frame``: whole households' feature rows from 7 days before ``start`` to ``end``.
    Returns one wide row per complete day in [start, end]."""
    frame = frame.sort_values(["household_id", "day"]).reset_index(drop=True)
    scores, forecast = bundle.scores_and_forecast(frame)
    actual, expected = in_kwh(frame, forecast)
    deviation = np.abs(actual - expected)
    top = np.argsort(-deviation, axis=1)[:, :TOP_SLOTS]
    days = pd.to_datetime(frame["day"]).dt.date
    keep = (frame["is_complete"].to_numpy(bool) & (days >= start) & (days <= end)).to_numpy()
    out = pd.DataFrame(
        {
            "household_id": frame["household_id"],
            "day": frame["day"],
            "actual_kwh": actual.sum(axis=1),
            "expected_kwh": expected.sum(axis=1),
            "top_slots": [list(map(int, row)) for row in top],
            "top_deviation_kwh": [list(map(float, d[row])) for d, row in zip(deviation, top)],
            **{f"score_{name}": scores[name] for name in SCORED_MODELS},
        }
    )
    return out[keep].reset_index(drop=True)


def score_in_calls(
    frame: pd.DataFrame, bundle: Bundle, start, end, households_per_call: int = HOUSEHOLDS_PER_CALL
) -> pd.DataFrame:
    """``score_households`` over whole households, ``households_per_call`` at a time (same rows:
    every score depends only on its own household's days)."""
    households = frame["household_id"].unique()
    if len(households) <= households_per_call:
        return score_households(frame, bundle, start, end)
    calls = np.array_split(households, int(np.ceil(len(households) / households_per_call)))
    return pd.concat(
        [score_households(frame[frame["household_id"].isin(call)], bundle, start, end) for call in calls],
        ignore_index=True,
    )
