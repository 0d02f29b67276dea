"""Detector inputs from ``gold/features`` rows (pandas): feature matrix, profiles, day windows."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

SLOTS = 48
HISTORY_DAYS = 7

# Household-relative features only: comparable across households of any size.
IF_FEATURES = [
    "dev_7", "dev_28", "profile_dist_28", "profile_corr_28", "night_share", "cv",
    "max_over_mean", "min_over_level", "zero_share", "max_repeat_share",
]


def feature_matrix(features: pd.DataFrame, fill: dict[str, float]) -> np.ndarray:
    """IF_FEATURES with gaps (a household's first days) filled by training medians."""
    return features[IF_FEATURES].astype(float).fillna(fill).to_numpy()


def profile_matrix(features: pd.DataFrame) -> np.ndarray:
    """(n, 48) profiles in household units; missing slots as the row's mean (complete days have none)."""
    x = np.array([[np.nan if v is None else v for v in p] for p in features["profile"]], dtype=float).reshape(-1, SLOTS)
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
