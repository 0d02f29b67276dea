"""The anomaly types, as pure numpy functions of one household-day's readings.

Each takes the day's readings in time order and a ``numpy.random.Generator`` and returns the new
readings and the parameters it drew. Theft attacks follow Jokar et al. (2016), "Electricity Theft
Detection in AMI Using Customers' Consumption Patterns", IEEE Trans. Smart Grid 7(1):

| type | change | parameters |
| --- | --- | --- |
| ``h1`` | every reading × alpha | alpha ~ U(0.1, 0.8) |
| ``h2`` | zero over a random interval | start slot, duration ~ U{8..28} half-hours (4–14 h) |
| ``h3`` | each reading × its own factor | factors ~ U(0.1, 0.8) each |
| ``h4`` | the day's mean × a random factor per reading | factors ~ U(0.1, 0.8) each |
| ``h5`` | the day's mean at every reading | — |
| ``h6`` | the day reversed in time | — |
| ``spike`` | a few readings many times normal | 1-3 readings × U(5, 15) of max(reading, day mean), ≤ 12 kWh |
| ``stuck`` | one value repeated for hours | start slot, duration ~ U{6..16} half-hours (3–8 h) |
| ``outage`` | the whole day zero | — |
| ``level_shift`` | several consecutive days scaled | n_days ~ U{3..7}, factor ~ U(0.3, 0.6) or U(1.6, 2.5) |
"""

from __future__ import annotations

from typing import Callable

import numpy as np

THEFT_LOW, THEFT_HIGH = 0.1, 0.8
# Spikes stay within what a domestic supply can deliver (the ingest bound): a larger value would
# be quarantined by ingest and its labelled day lost to scoring.
SPIKE_CAP_KWH = 12.0
Params = dict[str, float]


def h1(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    alpha = rng.uniform(THEFT_LOW, THEFT_HIGH)
    return x * alpha, {"alpha": alpha}


def h2(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    duration = min(int(rng.integers(8, 29)), len(x))
    start = int(rng.integers(0, len(x) - duration + 1))
    out = x.copy()
    out[start : start + duration] = 0.0
    return out, {"start_slot": float(start), "duration_slots": float(duration)}


def h3(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    factors = rng.uniform(THEFT_LOW, THEFT_HIGH, size=len(x))
    return x * factors, {"factor_mean": float(factors.mean())}


def h4(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    factors = rng.uniform(THEFT_LOW, THEFT_HIGH, size=len(x))
    return x.mean() * factors, {"factor_mean": float(factors.mean())}


def h5(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    return np.full_like(x, x.mean()), {}


def h6(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    return x[::-1].copy(), {}


def spike(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    count = min(int(rng.integers(1, 4)), len(x))
    multiplier = rng.uniform(5.0, 15.0)
    slots = rng.choice(len(x), size=count, replace=False)
    out = x.copy()
    out[slots] = np.minimum(np.maximum(x[slots], x.mean()) * multiplier, SPIKE_CAP_KWH)
    return out, {"count": float(count), "multiplier": multiplier}


def stuck(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    duration = min(int(rng.integers(6, 17)), len(x))
    start = int(rng.integers(0, len(x) - duration + 1))
    out = x.copy()
    out[start : start + duration] = x[start]
    return out, {"start_slot": float(start), "duration_slots": float(duration), "value": float(x[start])}


def outage(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    return np.zeros_like(x), {}


def draw_level_shift(rng: np.random.Generator) -> Params:
    """A level shift's parameters; it scales this day and the next n_days - 1 (see inject)."""
    down = rng.uniform() < 0.5
    factor = rng.uniform(0.3, 0.6) if down else rng.uniform(1.6, 2.5)
    return {"n_days": float(rng.integers(LEVEL_SHIFT_MIN_DAYS, LEVEL_SHIFT_MAX_DAYS + 1)), "factor": factor}


DAY_ANOMALIES: dict[str, Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, Params]]] = {
    "h1": h1,
    "h2": h2,
    "h3": h3,
    "h4": h4,
    "h5": h5,
    "h6": h6,
    "spike": spike,
    "stuck": stuck,
    "outage": outage,
}
LEVEL_SHIFT = "level_shift"
ANOMALY_TYPES = (*DAY_ANOMALIES, LEVEL_SHIFT)
LEVEL_SHIFT_MIN_DAYS, LEVEL_SHIFT_MAX_DAYS = 3, 7
# Household-days one pick of each type labels on average: what balancing the types by days needs.
DAYS_PER_PICK = {
    **{kind: 1.0 for kind in DAY_ANOMALIES},
    LEVEL_SHIFT: (LEVEL_SHIFT_MIN_DAYS + LEVEL_SHIFT_MAX_DAYS) / 2,
}
