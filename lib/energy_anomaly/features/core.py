"""Per-household day features in pandas: the core the Spark stage applies per household.

Each household's days are put on a continuous daily index once; every window is of the days
*before* a day (a day never sees itself) and of bounded length, so a day's features depend on at
most ``HISTORY_DEPENDENCE_DAYS`` calendar days before it. That is what lets ``update`` recompute
the features of new days from a bounded slice of history and get the values a full run gets: each
window's mean and quantiles are computed from that window's values alone, in a fixed order, never
from a running sum carried along the series.

| feature | meaning |
| --- | --- |
| ``baseline_7``, ``baseline_28`` | mean daily kWh of the previous 7 / 28 calendar days (complete days) |
| ``dev_7``, ``dev_28`` | daily kWh / baseline - 1 |
| ``level`` | mean daily kWh of the previous 28 days (complete days; else the day's own) / 48: a typical half-hour |
| ``profile`` | the 48 values / level: the day's shape in the household's own units |
| ``profile_dist_28`` | mean absolute difference of ``profile`` from the household's mean profile of 28 days |
| ``profile_corr_28`` | correlation of ``profile`` with that mean profile (time reversal, shuffled readings) |
| ``shift_gain_28`` | best correlation with that mean profile moved up to 4 h, minus unmoved (a clock off) |
| ``quiet_gap_28`` | log of the day's mean over the 3 h its 28-day mean profile is lowest, over its own lowest 3 h |
| ``night_share`` | share of the day's kWh in 01:00–06:00 |
| ``cv``, ``max_over_mean``, ``min_over_level`` | spread, peakiness, base load relative to the household |
| ``zero_share``, ``max_repeat_share`` | zero readings, longest run of one repeated value (stuck meter), over 48 |
| ``log_total``, ``log_peak`` | log of daily kWh + 0.5 and of the largest half-hour + 0.05 (an outage stays finite) |
| ``log_base`` | log of the mean of the day's 6 lowest half-hours + 0.02: the always-on load (fridge, standby) |
| ``roughness`` | mean absolute step between consecutive half-hours / the day's mean (shuffled or flattened days) |
| ``log_scale`` | median of the 48 log((``profile`` + 0.1) / (28-day mean profile + 0.1)): scale at each time of day |
| ``z_<stat>`` | the statistic against the household's own history: (x - median) / robust spread |
| ``z_shift_gain_28`` | the time shift's gain against the household's usual gains (irregular timing is usual) |
| ``z91_log_base``, ``z91_log_scale`` | the same against the previous 91 days alone (a slow change) |

The ``z_`` features make one day comparable across households: a flat-profile household's normal
``cv`` is another's anomaly. The spread is the range between the 10th and 90th percentiles /
2.563 (the standard deviation's estimate from them; the percentiles come from one sort of each
day's window), floored per statistic so a household whose statistic never moves does not turn
noise into large z. The 10-90 range rather than the interquartile range: a household whose days
are usually alike but now and then far apart (guests, a day out) has wide tails its quartiles do
not see, and measured by them its ordinary unusual days would rank with the anomalies.

The history is two windows, the previous 28 and the previous 91 days, and ``z_`` is the smaller in
magnitude of the two: a day is unusual only if it is unusual against the last month *and* the last
quarter. A household back from three weeks away is at its own quarter's normal, not flagged for
days because its last month was empty; a sudden change is unusual against both. A slow change is
not: theft grown over weeks to stay under the radar moves the last month's median along with it,
and the smaller z follows. So the two scale statistics are also kept against the quarter alone
(``z91_``), where weeks of slow decline still stand out.

The always-on load is the steadiest thing a household draws, and every reading-scaling theft
(Jokar's h1, h3, h4) and a level shift scale it too, where the day's total moves with weather and
activity. ``log_scale`` measures the same scaling on every half-hour at once: each against the
household's usual at that time of day, and the median of them, so a kettle or a late dinner (a
few half-hours) does not move it where it moves the total.

A household's quietest hours (asleep, or out) are the steadiest *time* in its day: ``quiet_gap_28``
is 0 when the day is at its quietest when the household usually is, and grows when those hours
were not quiet: load moved into them (time-of-use shifting), a clock set wrong, a reversed day,
another household's day. It reads the day's own quietest 3 hours, wherever they fall, so a day
that is only lower or higher everywhere keeps it near 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd

from energy_anomaly.catalog import (
    FEATURE_COLUMNS,
    LONG_MEMORY_FEATURES,
    RELATIVE_FEATURES,
    RELATIVE_STATS,
    SLOTS_PER_DAY,
)

SLOTS = SLOTS_PER_DAY
NIGHT = slice(2, 12)  # 01:00 to 05:30 stamps
EPS = 1e-6
MIN_DAYS_7, MIN_DAYS_28 = 3, 7
HISTORY_WINDOWS = (28, 91)  # days; z_ is the smaller in magnitude (see above)
LONG_WINDOW = max(HISTORY_WINDOWS)
LONG_MEMORY_STATS = ("log_base", "log_scale")  # also z91_<stat>: against LONG_WINDOW days alone
LEVEL_WINDOW = PROFILE_WINDOW = 28  # days behind level and the mean profile
# How far back a day's features reach: z_ compares with 91 days of statistics, the profile
# statistics among them use a 28-day mean profile, whose profiles are scaled by a 28-day level.
HISTORY_DEPENDENCE_DAYS = max(HISTORY_WINDOWS) + PROFILE_WINDOW + LEVEL_WINDOW
# With the stored features of the days before (their totals, profiles and statistics), a day
# needs only the longest window's days: ``household_features(daily, history)``.
STORED_HISTORY_DAYS = max(HISTORY_WINDOWS)
# New rows computed on one grid: a window sort holds rows x 12 statistics x 91 days of doubles.
CHUNK_ROWS = 10_000
QUANTILE_BLOCK = 1_024  # positions whose windows previous_days_quantiles_at holds at once
HISTORY_COLUMNS = ("household_id", "day", "is_complete", "daily_kwh", "profile", *RELATIVE_STATS)
NEW_COLUMNS = ("household_id", "day", "is_complete", "kwh")  # what a new silver/daily row brings
MAX_SHIFT_SLOTS = 8  # 4 hours: shift_gain_28 compares the day with the mean profile moved this far
BASE_SLOTS, BASE_OFFSET_KWH = 6, 0.02  # the always-on load: the day's 6 lowest half-hours (3 h)
# quiet_gap_28: 3-hour windows (round the day), and an offset of a twentieth of the household's
# typical half-hour, so a window of zeros stays finite.
QUIET_SLOTS, QUIET_OFFSET = 6, 0.05

TOTAL_OFFSET_KWH, PEAK_OFFSET_KWH = 0.5, 0.05
# The z spread: (90th - 10th percentile) / 2.563, the range a normal distribution's sigma gives.
SPREAD_QUANTILES = (0.1, 0.5, 0.9)
SPREAD_TO_SIGMA = 2.563
SCALE_OFFSET = 0.1  # log_scale: a tenth of the household's typical half-hour, so an empty slot stays finite
# Statistic -> floor of its spread: about the smallest change that matters for that statistic.
RELATIVE_FLOORS = {
    "log_total": 0.05,
    "log_peak": 0.05,
    "log_base": 0.05,
    "cv": 0.05,
    "roughness": 0.05,
    "night_share": 0.02,
    "max_over_mean": 0.25,
    "zero_share": 1 / SLOTS,
    "max_repeat_share": 1 / SLOTS,
    "profile_corr_28": 0.05,
    "profile_dist_28": 0.05,
    "log_scale": 0.05,
    "shift_gain_28": 0.02,
    "quiet_gap_28": 0.05,
}
assert tuple(RELATIVE_FLOORS) == RELATIVE_STATS, "catalog.RELATIVE_STATS names the floored statistics, in order"
assert LONG_MEMORY_FEATURES == tuple(f"z91_{name}" for name in LONG_MEMORY_STATS)


def values_matrix(kwh: pd.Series) -> np.ndarray:
    """A column of 48-value arrays (lists with None, or arrays with NaN) -> float matrix with NaN."""
    return np.array(kwh.tolist(), dtype=float).reshape(-1, SLOTS)


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


def shift_gain(profile: np.ndarray, mean_profile: np.ndarray, unmoved: np.ndarray) -> np.ndarray:
    """Per row, the best correlation of ``profile`` with ``mean_profile`` moved by up to
    ``MAX_SHIFT_SLOTS`` either way (round the day), minus ``unmoved`` (their correlation, as
    ``rowwise_corr`` gives it): 0 when the day fits the household's usual timing best, up to 2. An
    undefined correlation (a flat day) counts as 0."""
    unmoved = np.nan_to_num(unmoved)
    best = unmoved
    for shift in range(-MAX_SHIFT_SLOTS, MAX_SHIFT_SLOTS + 1):
        if shift:
            best = np.maximum(best, np.nan_to_num(rowwise_corr(profile, np.roll(mean_profile, shift, axis=1))))
    return best - unmoved


def window_means(profile: np.ndarray) -> np.ndarray:
    """Per row, the mean of every ``QUIET_SLOTS`` consecutive slots round the day: column i holds
    slots i - 3 .. i + 2 (mod 48)."""
    before, after = QUIET_SLOTS // 2, QUIET_SLOTS - QUIET_SLOTS // 2
    wrapped = np.concatenate([profile[:, -before:], profile, profile[:, :after]], axis=1)
    return sum(wrapped[:, k : k + SLOTS] for k in range(QUIET_SLOTS)) / QUIET_SLOTS


def quiet_gap(profile: np.ndarray, mean_profile: np.ndarray) -> np.ndarray:
    """Per row, log((the day's mean over the window where ``mean_profile`` is lowest + offset) /
    (the day's lowest window mean + offset)), windows of ``QUIET_SLOTS`` round the day: >= 0, 0
    when the day is quietest where the household usually is. Like ``shift_gain``, a row without a
    mean profile gets a meaningless value the caller masks."""
    quietest = np.argmin(window_means(mean_profile), axis=1)
    own = window_means(profile)
    at_usual = own[np.arange(len(own)), quietest]
    return np.log((at_usual + QUIET_OFFSET) / (np.nanmin(own, axis=1) + QUIET_OFFSET))


def previous_days_mean_at(
    grid: np.ndarray, households: np.ndarray, days: np.ndarray, window: int, min_periods: int
) -> np.ndarray:
    """At each (household, day) position of ``grid`` (households x calendar days [x columns]), the
    mean of the household's previous ``window`` days, NaN skipped; NaN where fewer than
    ``min_periods`` values. Summed offset by offset (nearest day first), so a day's mean is the same
    arithmetic whatever else the grid holds (``update`` relies on it)."""
    total = np.zeros((len(days), *grid.shape[2:]))
    count = np.zeros(total.shape, dtype=int)
    for offset in range(1, window + 1):
        earlier_day = days - offset
        earlier = grid[households, np.maximum(earlier_day, 0)]
        present = ~np.isnan(earlier) & (earlier_day >= 0).reshape(-1, *([1] * (grid.ndim - 2)))
        total += np.where(present, earlier, 0.0)
        count += present
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count >= min_periods, total / np.maximum(count, 1), np.nan)


def previous_days_quantiles_at(
    grid: np.ndarray,
    households: np.ndarray,
    days: np.ndarray,
    window: int,
    min_periods: int,
    quantiles: tuple[float, ...] = SPREAD_QUANTILES,
) -> np.ndarray:
    """The ``quantiles`` of each (household, day) position's previous ``window`` days in ``grid``
    (households x calendar days x columns), NaN skipped: shape (len(quantiles), positions,
    columns); NaN where fewer than ``min_periods`` values.

    The same order statistics and linear interpolation as pandas' ``rolling(window).quantile(q)
    .shift(1)``, computed for all the quantiles from one sort of every window, where pandas
    walks a skip list once per quantile and column."""
    out = np.empty((len(quantiles), len(days), *grid.shape[2:]))
    # A block of positions at a time: the windows, window x columns values a position, stay small
    # enough for the allocator to reuse one block's memory for the next instead of mapping (and
    # faulting in) fresh pages for an array of every position's windows.
    for start in range(0, len(days), QUANTILE_BLOCK):
        block = slice(start, start + QUANTILE_BLOCK)
        out[:, block] = _window_quantiles(grid, households[block], days[block], window, min_periods, quantiles)
    return out


def _window_quantiles(
    grid: np.ndarray,
    households: np.ndarray,
    days: np.ndarray,
    window: int,
    min_periods: int,
    quantiles: tuple[float, ...],
) -> np.ndarray:
    earlier_days = days[:, None] - np.arange(window, 0, -1)[None, :]  # (positions, window)
    windows = grid[households[:, None], np.maximum(earlier_days, 0)]  # (positions, window, columns)
    windows = np.where((earlier_days >= 0)[..., None], windows, np.nan)
    windows = np.sort(np.moveaxis(windows, 1, -1), axis=-1)  # (positions, columns, window), NaN last
    counts = window - np.isnan(windows).sum(axis=-1)
    last = np.maximum(counts - 1, 0)  # index of each window's largest value
    out = np.empty((len(quantiles), *counts.shape))
    for i, q in enumerate(quantiles):
        position = q * last
        low = np.floor(position).astype(np.intp)
        high = np.minimum(low + 1, last)
        v_low = np.take_along_axis(windows, low[..., None], axis=-1)[..., 0]
        v_high = np.take_along_axis(windows, high[..., None], axis=-1)[..., 0]
        fraction = position - low
        out[i] = np.where(fraction == 0, v_low, v_low + (v_high - v_low) * fraction)
    out[:, counts < min_periods] = np.nan
    return out


def previous_days_quantiles(
    values: np.ndarray, window: int, min_periods: int, quantiles: tuple[float, ...] = SPREAD_QUANTILES
) -> np.ndarray:
    """``previous_days_quantiles_at`` every row of one series (rows x columns)."""
    rows = np.arange(len(values))
    return previous_days_quantiles_at(values[None], np.zeros_like(rows), rows, window, min_periods, quantiles)


def household_features(daily: pd.DataFrame, *, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """``silver/daily`` rows (one household's, or many households') -> their feature rows, by
    household and day.

    ``history``, if given, is the households' ``gold/features`` rows (``HISTORY_COLUMNS``) of the
    ``STORED_HISTORY_DAYS`` before each one's first day in ``daily``: their stored totals, profiles
    and statistics stand in for the days before, which gives the values a run over the whole series
    gives, to the bit, without recomputing those days."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN features, on purpose
        return _features(daily, history)


def continued_features(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """``mapInPandas`` over rows partitioned by household: new ``silver/daily`` rows and stored
    ``gold/features`` rows (``is_history``) -> the new rows' features, whole households at a time,
    about ``CHUNK_ROWS`` new rows per grid."""
    parts = list(batches)
    if not parts:  # a partition no household hashed to
        return
    rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    household = rows["household_id"]
    is_history = rows["is_history"].to_numpy(bool)
    new_households = household[~is_history]
    sizes = new_households.groupby(new_households, sort=False).size()
    if sizes.empty:
        return
    chunk = pd.Series((sizes.cumsum().to_numpy() - 1) // CHUNK_ROWS, index=sizes.index)
    # The union's frame is mostly the other side's nulls: each chunk's rows are taken once, new
    # and stored apart, with only the columns each side reads. Households with history only
    # have no chunk (NaN), which groupby leaves out.
    new_columns = [rows.columns.get_loc(name) for name in NEW_COLUMNS]
    stored_columns = [rows.columns.get_loc(name) for name in HISTORY_COLUMNS]
    chunks = household.map(chunk)
    for positions in chunks.groupby(chunks, sort=False).indices.values():
        stored = is_history[positions]
        yield household_features(
            rows.iloc[positions[~stored], new_columns], history=rows.iloc[positions[stored], stored_columns]
        )


def _features(daily: pd.DataFrame, history: pd.DataFrame | None) -> pd.DataFrame:
    daily = daily.sort_values(["household_id", "day"]).reset_index(drop=True)
    if history is None:
        history = pd.DataFrame({name: [] for name in HISTORY_COLUMNS})
    x = values_matrix(daily["kwh"])
    complete = daily["is_complete"].to_numpy(bool)
    total = np.where(complete, np.nansum(x, axis=1), np.nan)

    # One grid of households x calendar days; the computed rows sit at (h, d), the stored at (hs, ds).
    ids = pd.Index(pd.unique(pd.concat([daily["household_id"], history["household_id"]], ignore_index=True)))
    day_numbers, stored_numbers = _day_numbers(daily["day"]), _day_numbers(history["day"])
    every_day = np.concatenate([day_numbers, stored_numbers])
    first, grid_days = every_day.min(), every_day.max() - every_day.min() + 1
    h, d = ids.get_indexer(daily["household_id"]), day_numbers - first
    hs, ds = ids.get_indexer(history["household_id"]), stored_numbers - first

    def on_grid(computed: np.ndarray, stored: np.ndarray, stored_rows=slice(None), since: int = 0) -> np.ndarray:
        """The grid of the days from ``since`` on: ``computed`` at (h, d), ``stored`` at the
        ``stored_rows`` of (hs, ds); NaN elsewhere."""
        grid = np.full((len(ids), grid_days - since, *computed.shape[1:]), np.nan)
        grid[hs[stored_rows], ds[stored_rows] - since] = stored
        grid[h, d - since] = computed
        return grid

    per_day = on_grid(total, history["daily_kwh"].to_numpy(dtype=float))
    baseline_7 = previous_days_mean_at(per_day, h, d, 7, MIN_DAYS_7)
    baseline_28 = previous_days_mean_at(per_day, h, d, 28, MIN_DAYS_28)
    recent = previous_days_mean_at(per_day, h, d, LEVEL_WINDOW, 1)
    level = np.where(np.isnan(baseline_28), recent, baseline_28) / SLOTS
    # A household's first day (or first after four weeks without a complete day) has no past:
    # its own mean (never a later day's) stands in.
    level = np.where(np.isnan(level), np.nanmean(x, axis=1), level)

    profile = x / np.maximum(level, EPS)[:, None]
    # Only the profiles of complete days enter a mean profile; older stored rows come without one.
    # The profiles' grid starts PROFILE_WINDOW days before the first computed day: a daily
    # update's would otherwise hold 91 days x 48 values a household, 63 of them never read.
    since = max(int(d.min()) - PROFILE_WINDOW, 0) if len(d) else 0
    with_profile = (ds >= since) & history["is_complete"].to_numpy(bool) & history["profile"].notna().to_numpy()
    stored_profiles = values_matrix(history["profile"][with_profile]) if with_profile.any() else np.empty((0, SLOTS))
    profiles = on_grid(np.where(complete[:, None], profile, np.nan), stored_profiles, with_profile, since)
    mean_profile = previous_days_mean_at(profiles, h, d - since, PROFILE_WINDOW, MIN_DAYS_28)

    # A flat or empty day has no shape in common with the household's: correlation 0, not unknown.
    has_history = ~np.isnan(mean_profile).all(axis=1)
    corr_28 = rowwise_corr(profile, mean_profile)
    day_mean = total / SLOTS
    with np.errstate(invalid="ignore", divide="ignore"):
        columns = {
            "daily_kwh": total,
            "baseline_7": baseline_7,
            "baseline_28": baseline_28,
            "dev_7": total / baseline_7 - 1,
            "dev_28": total / baseline_28 - 1,
            "level": level,
            "profile_dist_28": np.nanmean(np.abs(profile - mean_profile), axis=1),
            "profile_corr_28": np.where(has_history, np.nan_to_num(corr_28), np.nan),
            "shift_gain_28": np.where(has_history, shift_gain(profile, mean_profile, corr_28), np.nan),
            "quiet_gap_28": np.where(has_history, quiet_gap(profile, mean_profile), np.nan),
            "night_share": np.nansum(x[:, NIGHT], axis=1) / np.maximum(total, EPS),
            "cv": np.nanstd(x, axis=1) / np.maximum(day_mean, EPS),
            "max_over_mean": np.nanmax(x, axis=1) / np.maximum(day_mean, EPS),
            "min_over_level": np.nanmin(x, axis=1) / np.maximum(level, EPS),
            "zero_share": (x == 0).sum(axis=1) / SLOTS,
            "max_repeat_share": longest_repeat(x) / SLOTS,
            "log_total": np.log(total + TOTAL_OFFSET_KWH),
            "log_peak": np.log(np.nanmax(x, axis=1) + PEAK_OFFSET_KWH),
            "log_base": np.log(np.sort(x, axis=1)[:, :BASE_SLOTS].mean(axis=1) + BASE_OFFSET_KWH),
            "roughness": np.nanmean(np.abs(np.diff(x, axis=1)), axis=1) / np.maximum(day_mean, EPS),
            "log_scale": np.nanmedian(np.log((profile + SCALE_OFFSET) / (mean_profile + SCALE_OFFSET)), axis=1),
        }
    # The statistics as gold/features stores them (an incomplete day or an infinity is unknown),
    # so a day compares with stored history exactly as with history computed in the same call.
    own_stats = np.column_stack([_as_stored(columns[name], complete) for name in RELATIVE_FLOORS])
    stats = on_grid(own_stats, history[list(RELATIVE_FLOORS)].to_numpy(dtype=float).reshape(-1, len(RELATIVE_FLOORS)))
    floor = np.array(list(RELATIVE_FLOORS.values()))
    z = None
    columns.update({f"z91_{name}": np.full(len(daily), np.nan) for name in LONG_MEMORY_STATS})
    with np.errstate(invalid="ignore"):
        for window in HISTORY_WINDOWS:
            low, median, high = previous_days_quantiles_at(stats, h, d, window, MIN_DAYS_28)
            spread = np.maximum((high - low) / SPREAD_TO_SIGMA, floor)  # a NaN spread stays NaN
            window_z = (own_stats - median) / spread
            if window == LONG_WINDOW:
                for name in LONG_MEMORY_STATS:
                    columns[f"z91_{name}"] = window_z[:, list(RELATIVE_FLOORS).index(name)]
            z = window_z if z is None else np.where(np.isnan(z) | (np.abs(window_z) < np.abs(z)), window_z, z)
    columns.update({name: z[:, i] for i, name in enumerate(RELATIVE_FEATURES)})
    # One numeric block: infinities become unknown, and an incomplete day has no features.
    names = ["daily_kwh", *FEATURE_COLUMNS]
    numeric = np.column_stack([np.asarray(columns[name], dtype=float) for name in names])
    numeric[~np.isfinite(numeric)] = np.nan
    numeric[~complete, 1:] = np.nan
    out = pd.DataFrame(numeric, columns=names)
    out.insert(0, "household_id", daily["household_id"].to_numpy())
    out.insert(1, "day", daily["day"].to_numpy())
    out.insert(2, "is_complete", complete)
    # Arrow turns each row's NaN into null on the way back to Spark.
    out["profile"] = list(profile)
    return out


def _day_numbers(days: pd.Series) -> np.ndarray:
    """Dates (or datetimes) -> whole days since the epoch."""
    return pd.to_datetime(days).to_numpy(dtype="datetime64[D]").astype(np.int64)


def _as_stored(values: np.ndarray, complete: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return np.where(complete & np.isfinite(values), values, np.nan)
