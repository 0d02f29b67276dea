"""Plants labelled anomalies into whole household-days: a pandas core and its Spark wrapper.

Which days, which type and which parameters are drawn from a generator seeded by
``(seed, crc32(household_id), day)``, so the result depends only on the seed and the input rows,
never on partitioning or row order. Types are balanced by labelled days, not by picks: a
``level_shift`` labels 5 days on average, so it is picked a fifth as often as a one-day type, and
days are picked at the rate that makes ``rate`` the expected share of labelled household-days.
A ``level_shift`` picked on day d scales d and the following ``n_days - 1`` days (within the
period) that were not picked themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from typing import Iterable

import numpy as np
import pandas as pd

from energy_anomaly.synth.anomalies import ANOMALY_TYPES, DAY_ANOMALIES, DAYS_PER_PICK, LEVEL_SHIFT, draw_level_shift

LABEL_COLUMNS = ["household_id", "day", "anomaly_type", "params", "seed"]


def day_rng(seed: int, household_id: str, day: dt.date) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(household_id.encode()), day.toordinal()])


def plan_days(
    household_id: str,
    days: Iterable[dt.date],
    *,
    seed: int,
    rate: float,
    start: dt.date,
    end: dt.date,
    types: tuple[str, ...],
):
    """{day: (anomaly_type, rng)} for the picked days of one household."""
    weights = np.array([1.0 / DAYS_PER_PICK[kind] for kind in types])
    pick_rate = rate * weights.sum() / len(types)  # = rate / (labelled days per pick)
    cumulative = np.cumsum(weights / weights.sum())
    plan = {}
    for day in days:
        if not start <= day <= end:
            continue
        rng = day_rng(seed, household_id, day)
        if rng.uniform() < pick_rate:
            kind = int(np.searchsorted(cumulative, rng.uniform(), side="right"))
            plan[day] = (types[min(kind, len(types) - 1)], rng)
    return plan


def inject_household(
    readings: pd.DataFrame,
    *,
    seed: int,
    rate: float,
    start: dt.date,
    end: dt.date,
    types: tuple[str, ...] = ANOMALY_TYPES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One household's readings (``household_id``, ``ts``, ``kwh``, ...) -> (changed readings, labels)."""
    unknown = set(types) - set(ANOMALY_TYPES)
    if unknown:
        raise ValueError(f"unknown anomaly types: {sorted(unknown)}")
    out = readings.sort_values("ts", kind="stable").reset_index(drop=True)
    if out.empty:
        return out, pd.DataFrame(columns=LABEL_COLUMNS)
    household_id = str(out["household_id"].iloc[0])
    day_of_row = out["ts"].dt.date
    days = sorted(day_of_row.unique())
    plan = plan_days(household_id, days, seed=seed, rate=rate, start=start, end=end, types=types)
    labels = []
    kwh = out["kwh"].to_numpy(dtype=float).copy()
    shifted: dict[dt.date, tuple[float, dt.date, float]] = {}
    for day, (kind, rng) in plan.items():
        if kind == LEVEL_SHIFT:
            params = draw_level_shift(rng)
            span = [day + dt.timedelta(days=k) for k in range(int(params["n_days"]))]
            for covered in span:
                if covered <= end and (covered == day or covered not in plan):
                    shifted.setdefault(covered, (params["factor"], day, params["n_days"]))
            continue
        rows = np.flatnonzero((day_of_row == day).to_numpy())
        kwh[rows], params = DAY_ANOMALIES[kind](kwh[rows], rng)
        labels.append((household_id, day, kind, params))
    for day, (factor, first, n_days) in shifted.items():
        rows = np.flatnonzero((day_of_row == day).to_numpy())
        if len(rows):
            kwh[rows] = kwh[rows] * factor
            labels.append(
                (
                    household_id,
                    day,
                    LEVEL_SHIFT,
                    {"factor": factor, "n_days": n_days, "first_day_ordinal": float(first.toordinal())},
                )
            )
    out["kwh"] = kwh
    label_frame = pd.DataFrame(
        [(h, d, k, json.dumps(p, sort_keys=True), seed) for h, d, k, p in labels], columns=LABEL_COLUMNS
    )
    return out, label_frame.sort_values("day", kind="stable").reset_index(drop=True)


def inject_frame(
    frame: pd.DataFrame, *, seed: int, rate: float, start: dt.date, end: dt.date, types: tuple[str, ...]
) -> pd.DataFrame:
    """``applyInPandas`` body: one household's rows, returned with ``anomaly_type``/``anomaly_params``
    set on the rows of labelled days (null elsewhere)."""
    changed, labels = inject_household(frame, seed=seed, rate=rate, start=start, end=end, types=types)
    by_day = labels.set_index("day")[["anomaly_type", "params"]] if len(labels) else None
    days = changed["ts"].dt.date
    changed["anomaly_type"] = days.map(by_day["anomaly_type"]) if by_day is not None else None
    changed["anomaly_params"] = days.map(by_day["params"]) if by_day is not None else None
    return changed
