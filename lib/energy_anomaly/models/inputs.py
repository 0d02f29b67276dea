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


def day_windows(features: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """(n, 7, 48): for each row (each of ``rows``, a boolean mask, if given), the household's
    profiles of the 7 previous calendar days.

    ``features`` must hold whole households sorted by (household_id, day). A missing or
    incomplete previous day is filled with the mean of the household's available previous days in
    the window, or a flat profile (1.0 = the household's typical half-hour) when there are none.
    """
    profiles = profile_matrix(features)
    complete = features["is_complete"].to_numpy(bool)
    wanted = np.ones(len(features), bool) if rows is None else np.asarray(rows, bool)
    out = np.empty((int(wanted.sum()), HISTORY_DAYS, SLOTS))
    households = features["household_id"].to_numpy()
    days = pd.to_datetime(features["day"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    starts = np.flatnonzero(np.r_[True, households[1:] != households[:-1]]) if len(features) else np.array([], int)
    done = 0
    for start, end in zip(starts, [*starts[1:], len(features)]):
        take = np.flatnonzero(wanted[start:end])
        if len(take):
            part = slice(start, end)
            out[done : done + len(take)] = _household_windows(days[part], profiles[part], complete[part], take)
            done += len(take)
    return out


def _household_windows(days: np.ndarray, profiles: np.ndarray, complete: np.ndarray, take: np.ndarray) -> np.ndarray:
    """The windows of one household's rows ``take`` (positions)."""
    calendar = np.full((days[-1] - days[0] + 1 + HISTORY_DAYS, SLOTS), np.nan)
    rows = days - days[0] + HISTORY_DAYS
    calendar[rows[complete]] = profiles[complete]
    windows = calendar[rows[take][:, None] + np.arange(-HISTORY_DAYS, 0)]  # (rows, 7, 48)
    available = ~np.isnan(windows).any(axis=2)
    count = available.sum(axis=1)[:, None]
    # The mean of the available days, summed in day order as over them alone (a missing day adds 0.0).
    mean = np.where(available[..., None], windows, 0.0).sum(axis=1) / np.maximum(count, 1)
    fill = np.where(count > 0, mean, 1.0)
    return np.where(available[..., None], windows, fill[:, None, :])


def windows_of(features: pd.DataFrame) -> np.ndarray:
    """Precomputed ``history`` (7 × 48 flattened) when the rows carry it, else built here."""
    if "history" in features.columns:
        return np.array([np.asarray(h, dtype=float) for h in features["history"]]).reshape(-1, HISTORY_DAYS, SLOTS)
    return day_windows(features)
