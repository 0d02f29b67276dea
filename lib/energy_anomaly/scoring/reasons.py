"""Why a flagged day was flagged, in words an analyst acts on: one ``reason`` per gold/anomalies
row, derived from the day's features (not from any detector or label).

The rules read the household-relative statistics of gold/features (``z_<stat>``: the day against
the household's own history, in robust standard deviations) and the level against the 28-day
baseline, so "unusual" means unusual for that household. The first rule that holds names the day:

| reason | the day |
|---|---|
| ``zero_interval`` | two hours or more of zero readings, unusual for the household (outage, bypass) |
| ``stuck`` | one value repeated for three hours or more, unusual for the household (meter fault) |
| ``low_level`` | under half the 28-day baseline (theft by under-reporting, absence) |
| ``high_level`` | over twice the 28-day baseline |
| ``under_reading`` | every hour far under the household's usual, or under its quarter's level (slow theft) |
| ``spike`` | a peak far above the household's usual peak-to-mean |
| ``flat`` | far flatter than the household's days (a constant or capped load) |
| ``time_shift`` | the household's usual day hours early or late (a meter clock set wrong) |
| ``load_shift`` | night's share of the day far from the household's (consumption moved in time) |
| ``quiet_hours`` | busy in the hours the household is usually quietest (load moved into them, a clock off) |
| ``shape`` | none of these: the day's profile is unlike the household's |

A day without history (its first days) has no z-statistics: those rules do not hold for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SLOTS = 48
UNUSUAL_Z = 3.0  # robust standard deviations from the household's own days
ZERO_SLOTS, STUCK_SLOTS = 4, 6  # two and three hours
LOW_LEVEL, HIGH_LEVEL = -0.5, 1.0  # dev_28: daily kWh / 28-day baseline - 1
TIME_SHIFT_GAIN = 0.3  # shift_gain_28: correlation gained by moving the usual day in time

REASONS = (
    "zero_interval",
    "stuck",
    "low_level",
    "high_level",
    "under_reading",
    "spike",
    "flat",
    "time_shift",
    "load_shift",
    "quiet_hours",
    "shape",
)


def reasons(features: pd.DataFrame) -> np.ndarray:
    """Per gold/features row, the first rule that holds (``REASONS``' order), else ``shape``.
    A missing statistic (no history yet, or a column the caller did not pass, as the registry's
    pyfunc model takes only what the detectors read) holds no rule."""

    def col(name: str) -> np.ndarray:
        return features[name].to_numpy(float) if name in features else np.full(len(features), np.nan)

    def z(name: str) -> np.ndarray:
        return np.nan_to_num(col(name), nan=0.0)

    with np.errstate(invalid="ignore"):  # NaN compares False: no evidence
        rules = [
            (col("zero_share") >= ZERO_SLOTS / SLOTS) & (z("z_zero_share") >= UNUSUAL_Z),
            (col("max_repeat_share") >= STUCK_SLOTS / SLOTS) & (z("z_max_repeat_share") >= UNUSUAL_Z),
            col("dev_28") <= LOW_LEVEL,
            col("dev_28") >= HIGH_LEVEL,
            (z("z_log_scale") <= -UNUSUAL_Z) | (z("z91_log_scale") <= -UNUSUAL_Z) | (z("z91_log_base") <= -UNUSUAL_Z),
            z("z_max_over_mean") >= UNUSUAL_Z,
            z("z_cv") <= -UNUSUAL_Z,
            col("shift_gain_28") >= TIME_SHIFT_GAIN,
            np.abs(z("z_night_share")) >= UNUSUAL_Z,
            z("z_quiet_gap_28") >= UNUSUAL_Z,
        ]
    return np.select(rules, REASONS[:-1], default=REASONS[-1]).astype(object)
