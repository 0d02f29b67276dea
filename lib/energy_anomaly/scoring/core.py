"""Scores one household's days (pandas): the body of the per-household Spark scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy_anomaly.catalog import SCORED_MODELS
from energy_anomaly.models.bundle import Bundle
from energy_anomaly.models.inputs import day_windows, profile_matrix
from energy_anomaly.scoring.reasons import reasons

TOP_SLOTS = 3
WIDE_COLUMNS = (
    "household_id",
    "day",
    "actual_kwh",
    "expected_kwh",
    "top_slots",
    "top_deviation_kwh",
    *(f"score_{name}" for name in SCORED_MODELS),
    "reason",
)
# Scored rows (household-days) per model call, in whole households. A call's arrays (7-day
# windows, their transforms, reconstructions, forecasts: ~20 KB a row) are allocated afresh for
# each call; at a few thousand rows they stay small enough for the allocator to reuse the last
# call's memory, where tens of thousands of rows a call map (and fault in) new pages every time:
# a London month's half, 84k rows, took twice as long in calls of 30,000. A call also costs a
# fixed overhead per model, so a daily update's households, one scored day each, are packed by
# the thousand.
ROWS_PER_CALL = 4_000


def in_kwh(frame: pd.DataFrame, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(actual, expected) half-hourly kWh of ``frame``'s days: profiles and the LSTM forecast are in
    household units, × ``level`` gives kWh. A forecast below zero is expected as zero: these
    meters only import."""
    level = frame["level"].to_numpy(float)[:, None]
    return profile_matrix(frame) * level, np.maximum(forecast * level, 0.0)


def scored_rows(frame: pd.DataFrame, start, end) -> np.ndarray:
    """The rows of ``frame`` the models score: complete days in [start, end]. The days before
    ``start`` are the LSTM's windows, not days to score."""
    days = pd.to_datetime(frame["day"]).dt.date
    return (frame["is_complete"].to_numpy(bool) & (days >= start) & (days <= end)).to_numpy()


def score_households(frame: pd.DataFrame, bundle: Bundle, start, end) -> pd.DataFrame:
    """``frame``: whole households' feature rows from 7 days before ``start`` to ``end``.
    Returns one wide row per complete day in [start, end]."""
    frame = frame.sort_values(["household_id", "day"]).reset_index(drop=True)
    # Only the scored days go through the models (a daily update's frame is 7 window days to 1
    # scored day, a household's each).
    keep = scored_rows(frame, start, end)
    if not keep.any():  # e.g. only incomplete days: the models take no empty input
        return pd.DataFrame({name: pd.Series(dtype=object) for name in WIDE_COLUMNS})
    windows = day_windows(frame, keep)
    frame = frame[keep].reset_index(drop=True)
    scores, forecast = bundle.scores_and_forecast(frame, windows)
    actual, expected = in_kwh(frame, forecast)
    deviation = np.abs(actual - expected)
    top = np.argsort(-deviation, axis=1)[:, :TOP_SLOTS]
    return pd.DataFrame(
        {
            "household_id": frame["household_id"],
            "day": frame["day"],
            "actual_kwh": actual.sum(axis=1),
            "expected_kwh": expected.sum(axis=1),
            "top_slots": [list(map(int, row)) for row in top],
            "top_deviation_kwh": [list(map(float, d[row])) for d, row in zip(deviation, top)],
            **{f"score_{name}": scores[name] for name in SCORED_MODELS},
            "reason": reasons(frame),
        }
    )


def score_in_calls(frame: pd.DataFrame, bundle: Bundle, start, end, rows_per_call: int = ROWS_PER_CALL) -> pd.DataFrame:
    """``score_households`` over whole households, about ``rows_per_call`` scored rows at a time
    (same rows: every score depends only on its own household's days)."""
    scored = pd.Series(scored_rows(frame, start, end)).groupby(frame["household_id"].to_numpy(), sort=False).sum()
    if len(scored) <= 1 or scored.sum() <= rows_per_call:
        return score_households(frame, bundle, start, end)
    # A household joins the call its first scored row falls in.
    call = np.maximum(scored.cumsum().to_numpy() - 1, 0) // rows_per_call
    calls = [scored.index[call == c] for c in np.unique(call)]
    return pd.concat(
        [score_households(frame[frame["household_id"].isin(ids)], bundle, start, end) for ids in calls],
        ignore_index=True,
    )
