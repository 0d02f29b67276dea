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
# Rows (household-days) per model call, in whole households. A call's memory (7-day windows,
# reconstructions, forecasts) follows its rows, so a Spark group is scored in calls of about this
# many rows: a worker's memory does not grow with the group, which at the London shape holds 1/16
# of all households. A call costs a fixed overhead per model besides its rows, so a daily update's
# households of 8 rows each are packed by the thousand, a backfill's of ~800 by the few dozen.
ROWS_PER_CALL = 30_000


def in_kwh(frame: pd.DataFrame, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(actual, expected) half-hourly kWh of ``frame``'s days: profiles and the LSTM forecast are in
    household units, × ``level`` gives kWh. A forecast below zero is expected as zero: these
    meters only import."""
    level = frame["level"].to_numpy(float)[:, None]
    return profile_matrix(frame) * level, np.maximum(forecast * level, 0.0)


def score_households(frame: pd.DataFrame, bundle: Bundle, start, end) -> pd.DataFrame:
    """``frame``: whole households' feature rows from 7 days before ``start`` to ``end``.
    Returns one wide row per complete day in [start, end]."""
    frame = frame.sort_values(["household_id", "day"]).reset_index(drop=True)
    days = pd.to_datetime(frame["day"]).dt.date
    keep = (frame["is_complete"].to_numpy(bool) & (days >= start) & (days <= end)).to_numpy()
    # The days before ``start`` are the LSTM's windows, not days to score: only the scored days go
    # through the models (a daily update's frame is 7 such days to 1 scored, a household's each).
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
    """``score_households`` over whole households, about ``rows_per_call`` rows at a time (same
    rows: every score depends only on its own household's days)."""
    sizes = frame.groupby("household_id", sort=False).size()
    if len(sizes) <= 1 or sizes.sum() <= rows_per_call:
        return score_households(frame, bundle, start, end)
    call = (sizes.cumsum().to_numpy() - 1) // rows_per_call  # a household joins the call its first row falls in
    calls = [sizes.index[call == c] for c in np.unique(call)]
    return pd.concat(
        [score_households(frame[frame["household_id"].isin(ids)], bundle, start, end) for ids in calls],
        ignore_index=True,
    )
