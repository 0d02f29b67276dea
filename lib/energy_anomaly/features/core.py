"""Per-household day features in pandas: the core the Spark stage applies per household.

Rolling work is O(rows): each household's days are put on a continuous daily index once, and the
7- and 28-day baselines are pandas rolling means shifted by a day (a day never sees itself).

| feature | meaning |
| --- | --- |
| ``baseline_7``, ``baseline_28`` | mean daily kWh of the previous 7 / 28 calendar days (complete days) |
| ``dev_7``, ``dev_28`` | daily kWh / baseline - 1 |
| ``level`` | baseline_28 / 48 (expanding mean until 7 days exist): the household's typical half-hour |
| ``profile`` | the 48 values / level: the day's shape in the household's own units |
| ``profile_dist_28`` | mean absolute difference between ``profile`` and the household's mean profile of the previous 28 days |
| ``profile_corr_28`` | correlation of ``profile`` with that mean profile (time reversal, shuffled readings) |
| ``night_share`` | share of the day's kWh in 01:00–06:00 |
| ``cv``, ``max_over_mean``, ``min_over_level`` | spread, peakiness, base load relative to the household |
| ``zero_share``, ``max_repeat_share`` | zero readings, longest run of one repeated value (stuck meter), over 48 |
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

SLOTS = 48
NIGHT = slice(2, 12)  # 01:00 to 05:30 stamps
EPS = 1e-6
MIN_DAYS_7, MIN_DAYS_28 = 3, 7

FEATURE_COLUMNS = [
    "baseline_7", "baseline_28", "dev_7", "dev_28", "level", "profile_dist_28", "profile_corr_28",
    "night_share", "cv", "max_over_mean", "min_over_level", "zero_share", "max_repeat_share",
]


def values_matrix(kwh: pd.Series) -> np.ndarray:
    """A column of 48-value arrays (None for missing) -> float matrix with NaN."""
    return np.array([[np.nan if v is None else v for v in row] for row in kwh], dtype=float).reshape(-1, SLOTS)


def longest_repeat(x: np.ndarray) -> np.ndarray:
    """Per row, the longest run of identical consecutive values (rows with NaN give their runs too)."""
    same = np.concatenate([np.zeros((len(x), 1), bool), x[:, 1:] == x[:, :-1]], axis=1)
    runs = np.zeros(len(x), dtype=int)
    current = np.zeros(len(x), dtype=int)
    for j in range(SLOTS):
        current = np.where(same[:, j], current + 1, 1)
        runs = np.maximum(runs, current)
    return runs


def rowwise_corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a_c = a - np.nanmean(a, axis=1, keepdims=True)
    b_c = b - np.nanmean(b, axis=1, keepdims=True)
    denominator = np.sqrt(np.nansum(a_c**2, axis=1) * np.nansum(b_c**2, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > EPS, np.nansum(a_c * b_c, axis=1) / denominator, np.nan)


def household_features(daily: pd.DataFrame) -> pd.DataFrame:
    """One household's ``silver/daily`` rows -> its feature rows (same days, in day order)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN features, on purpose
        return _household_features(daily)


def _household_features(daily: pd.DataFrame) -> pd.DataFrame:
    daily = daily.sort_values("day").reset_index(drop=True)
    x = values_matrix(daily["kwh"])
    complete = daily["is_complete"].to_numpy(bool)
    total = np.where(complete, np.nansum(x, axis=1), np.nan)

    index = pd.DatetimeIndex(pd.to_datetime(daily["day"]))
    calendar = pd.date_range(index.min(), index.max(), freq="D")
    per_day = pd.Series(total, index=index).reindex(calendar)
    baseline_7 = per_day.rolling(7, min_periods=MIN_DAYS_7).mean().shift(1).reindex(index).to_numpy()
    baseline_28 = per_day.rolling(28, min_periods=MIN_DAYS_28).mean().shift(1).reindex(index).to_numpy()
    expanding = per_day.expanding(min_periods=1).mean().shift(1).reindex(index).to_numpy()
    level = np.where(np.isnan(baseline_28), expanding, baseline_28) / SLOTS
    # A household's first day has no past: its own mean (never a later day's) stands in.
    level = np.where(np.isnan(level), np.nanmean(x, axis=1), level)

    profile = x / np.maximum(level, EPS)[:, None]
    complete_profiles = pd.DataFrame(np.where(complete[:, None], profile, np.nan), index=index).reindex(calendar)
    mean_profile = complete_profiles.rolling(28, min_periods=MIN_DAYS_28).mean().shift(1).reindex(index).to_numpy()

    day_mean = total / SLOTS
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame(
            {
                "household_id": daily["household_id"],
                "day": daily["day"],
                "is_complete": complete,
                "daily_kwh": total,
                "baseline_7": baseline_7,
                "baseline_28": baseline_28,
                "dev_7": total / baseline_7 - 1,
                "dev_28": total / baseline_28 - 1,
                "level": level,
                "profile_dist_28": np.nanmean(np.abs(profile - mean_profile), axis=1),
                "profile_corr_28": rowwise_corr(profile, mean_profile),
                "night_share": np.nansum(x[:, NIGHT], axis=1) / np.maximum(total, EPS),
                "cv": np.nanstd(x, axis=1) / np.maximum(day_mean, EPS),
                "max_over_mean": np.nanmax(x, axis=1) / np.maximum(day_mean, EPS),
                "min_over_level": np.nanmin(x, axis=1) / np.maximum(level, EPS),
                "zero_share": (x == 0).sum(axis=1) / SLOTS,
                "max_repeat_share": longest_repeat(x) / SLOTS,
            }
        )
    out["profile"] = [list(row) for row in np.where(np.isnan(profile), None, profile)]
    for column in FEATURE_COLUMNS + ["daily_kwh"]:
        out[column] = out[column].astype(float).where(np.isfinite(out[column].astype(float)))
    out.loc[~complete, FEATURE_COLUMNS] = np.nan
    return out
