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

Beyond Jokar's catalogue, kinds of tampering and meter fault the detectors were not designed
around (the evaluation's held-out types):

- ``tou_shift``: a share ~ U(0.5, 0.9) of a 6-8 slot evening peak (starting 16:00-18:00) moved
  evenly into 00:00-07:00, same daily total. Time-of-use theft: Liu et al. (2020), "Hidden
  Electricity Theft by Exploiting Multiple-Pricing Scheme in Smart Grids", IEEE Trans. Inf.
  Forensics Security 15:2453-2468.
- ``partial_bypass``: an appliance's constant load, U(0.1, 0.5) kWh per half-hour (0.2-1 kW), wired
  around the meter for 8-24 slots (4-12 h); readings never below 0. Meter bypassing: Glauner et al.
  (2017), "The Challenge of Non-Technical Loss Detection Using Artificial Intelligence: A Survey",
  Int. J. Comput. Intell. Syst. 10(1):760-775.
- ``clock_offset``: the day's readings 2-8 slots (1-4 h) early or late, wrapping within the day. A
  meter clock fault, or the timing manipulation time-of-use theft needs (Liu et al. 2020).
- ``copied_day``: the day replaced by another household's same day, a donor drawn among the
  households of the same input unlabelled that day. Another premises' data reported for this one,
  or false data injection of plausible readings: Munawar et al. (2022), "Novel FDIs-based data
  manipulation and its detection in smart meters' electricity theft scenarios", Front. Energy
  Res. 10:1043593.
- ``drift``: n_days ~ U{14..28} consecutive days under-read, day k by
  1 - 0.1 - (0.9 - final) k / (n - 1), final ~ U(0.3, 0.6). Theft grown slowly to stay under a
  change detector's threshold, as in the evasion attacks of Mashima & Cárdenas (2012),
  "Evaluating Electricity Theft Detectors in Smart Grid Networks", RAID, LNCS 7462.

A drift starts at 10 % under (a smaller error hides in a household's own day-to-day variation),
so every day it touches is labelled.
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


NIGHT_SLOTS = slice(0, 14)  # 00:00-07:00, the off-peak hours of UK time-of-use tariffs


def tou_shift(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    start = int(rng.integers(32, 37))
    duration = int(rng.integers(6, 9))
    share = rng.uniform(0.5, 0.9)
    out = x.copy()
    peak = slice(start, min(start + duration, len(x)))
    moved = out[peak] * share
    out[peak] -= moved
    night = out[NIGHT_SLOTS]
    out[NIGHT_SLOTS] = night + moved.sum() / len(night)
    return out, {"start_slot": float(start), "duration_slots": float(duration), "share": share}


def partial_bypass(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    load = rng.uniform(0.1, 0.5)
    duration = min(int(rng.integers(8, 25)), len(x))
    start = int(rng.integers(0, len(x) - duration + 1))
    out = x.copy()
    out[start : start + duration] = np.maximum(out[start : start + duration] - load, 0.0)
    return out, {"load_kwh": load, "start_slot": float(start), "duration_slots": float(duration)}


def clock_offset(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    offset = int(rng.integers(2, 9)) * (1 if rng.uniform() < 0.5 else -1)  # 1-4 hours
    return np.roll(x, offset), {"offset_slots": float(offset)}


def draw_level_shift(rng: np.random.Generator) -> Params:
    """A level shift's parameters; it scales this day and the next n_days - 1 (see inject)."""
    down = rng.uniform() < 0.5
    factor = rng.uniform(0.3, 0.6) if down else rng.uniform(1.6, 2.5)
    return {"n_days": float(rng.integers(LEVEL_SHIFT_MIN_DAYS, LEVEL_SHIFT_MAX_DAYS + 1)), "factor": factor}


def draw_drift(rng: np.random.Generator) -> Params:
    return {"n_days": float(rng.integers(DRIFT_MIN_DAYS, DRIFT_MAX_DAYS + 1)), "final": rng.uniform(0.3, 0.6)}


def span_factors(kind: str, params: Params) -> list[float]:
    """The factor of each day of a multi-day anomaly, from its first day on."""
    n_days = int(params["n_days"])
    if kind == LEVEL_SHIFT:
        return [params["factor"]] * n_days
    first = 1.0 - DRIFT_FIRST_ERROR
    return [first - (first - params["final"]) * k / max(n_days - 1, 1) for k in range(n_days)]


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
    "tou_shift": tou_shift,
    "partial_bypass": partial_bypass,
    "clock_offset": clock_offset,
}
# A copied day needs the other households' readings of that day: inject plants it day by day.
COPIED_DAY = "copied_day"
LEVEL_SHIFT, DRIFT = "level_shift", "drift"
SPAN_ANOMALIES: dict[str, Callable[[np.random.Generator], Params]] = {LEVEL_SHIFT: draw_level_shift, DRIFT: draw_drift}
ANOMALY_TYPES = (*DAY_ANOMALIES, COPIED_DAY, *SPAN_ANOMALIES)
LEVEL_SHIFT_MIN_DAYS, LEVEL_SHIFT_MAX_DAYS = 3, 7
DRIFT_MIN_DAYS, DRIFT_MAX_DAYS, DRIFT_FIRST_ERROR = 14, 28, 0.1
# Household-days one pick of each type labels on average: what balancing the types by days needs.
DAYS_PER_PICK = {
    **{kind: 1.0 for kind in (*DAY_ANOMALIES, COPIED_DAY)},
    LEVEL_SHIFT: (LEVEL_SHIFT_MIN_DAYS + LEVEL_SHIFT_MAX_DAYS) / 2,
    DRIFT: (DRIFT_MIN_DAYS + DRIFT_MAX_DAYS) / 2,
}
