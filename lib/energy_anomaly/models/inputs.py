"""Detector inputs from ``gold/features`` rows (pandas): feature matrix, profiles, day windows."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from energy_anomaly.catalog import DETECTOR_FEATURES, RELATIVE_FEATURES
from energy_anomaly.catalog import SLOTS_PER_DAY as SLOTS
from energy_anomaly.features.core import values_matrix

HISTORY_DAYS = 7
# Floor of a spread of logs over a day's 7-day window, where the AE and LSTM scores are in units of
# the household's own spread: a household whose days never vary does not turn noise into large terms.
SPREAD_FLOOR = 0.1

# Each day statistic against the household's own previous 28 days (see features.core), and how
# much better the day fits the household's usual shape moved in time: a day is judged by how unlike
# its own household it is, so one forest serves households of any size.
IF_FEATURES = DETECTOR_FEATURES
# What a forest trained before shift_gain_28 existed reads (its metadata names no columns): the
# z_ statistics of that version, which the catalogue lists first (log_scale came after).
FORMER_IF_FEATURES = RELATIVE_FEATURES[: RELATIVE_FEATURES.index("z_log_scale")]


def feature_matrix(features: pd.DataFrame, columns: tuple[str, ...] = IF_FEATURES) -> np.ndarray:
    """|columns|: how far each statistic is from the household's usual, in either direction.

    Theft lowers a day, a fault or a new appliance raises it: with magnitudes one isolation
    split separates both tails, where signed values need one per side. A household's first days,
    without 28 days of history, count as typical (0)."""
    return np.abs(features[list(columns)].astype(float).fillna(0.0).to_numpy())


def profile_matrix(features: pd.DataFrame) -> np.ndarray:
    """(n, 48) profiles in household units; missing slots as the row's mean (complete days have none)."""
    x = values_matrix(features["profile"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing row: flat 1.0 below
        row_mean = np.nanmean(x, axis=1, keepdims=True)
    return np.where(np.isnan(x), np.nan_to_num(row_mean, nan=1.0), x)


def day_windows(features: pd.DataFrame) -> np.ndarray:
    """(n, 7, 48): for each row, the household's profiles of the 7 previous calendar days.

    ``features`` must hold whole households sorted by (household_id, day). A missing or
    incomplete previous day is filled with the mean of the household's available previous days in
    the window, or a flat profile (1.0 = the household's typical half-hour) when there are none.
    """
    profiles = profile_matrix(features)
    complete = features["is_complete"].to_numpy(bool)
    out = np.empty((len(features), HISTORY_DAYS, SLOTS))
    households = features["household_id"].to_numpy()
    days = pd.to_datetime(features["day"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    start = 0
    while start < len(features):
        end = start
        while end < len(features) and households[end] == households[start]:
            end += 1
        _household_windows(days[start:end], profiles[start:end], complete[start:end], out[start:end])
        start = end
    return out


def _household_windows(days: np.ndarray, profiles: np.ndarray, complete: np.ndarray, out: np.ndarray) -> None:
    first = days[0]
    span = days[-1] - first + 1
    calendar = np.full((span + HISTORY_DAYS, SLOTS), np.nan)
    rows = days - first + HISTORY_DAYS
    calendar[rows[complete]] = profiles[complete]
    for i, row in enumerate(rows):
        window = calendar[row - HISTORY_DAYS : row]
        available = ~np.isnan(window).any(axis=1)
        fill = window[available].mean(axis=0) if available.any() else np.ones(SLOTS)
        out[i] = np.where(available[:, None], window, fill)


def windows_of(features: pd.DataFrame) -> np.ndarray:
    """Precomputed ``history`` (7 × 48 flattened) when the rows carry it, else built here."""
    if "history" in features.columns:
        return np.array([np.asarray(h, dtype=float) for h in features["history"]]).reshape(-1, HISTORY_DAYS, SLOTS)
    return day_windows(features)
