"""Plants labelled anomalies into whole household-days: a pandas core and its Spark wrapper.

Which days, which type and which parameters are drawn from a generator seeded by
``(seed, crc32(household_id), day)``, so the result depends only on the seed and the input rows,
never on partitioning or row order. Types are balanced by labelled days, not by picks: a
``level_shift`` labels 5 days on average, so it is picked a fifth as often as a one-day type, and
days are picked at the rate that makes ``rate`` the expected share of labelled household-days.
A ``level_shift`` or ``drift`` picked on day d scales d and the following ``n_days - 1`` days
(within the period) that were not picked themselves. A ``copied_day`` needs the other households'
readings of its day, so it is planted in a second pass over each day's rows (``copy_days``): the
household's readings are replaced by those of a donor drawn among that day's unlabelled households.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from typing import Iterable

import numpy as np
import pandas as pd

from energy_anomaly.synth.anomalies import (
    ANOMALY_TYPES,
    COPIED_DAY,
    DAY_ANOMALIES,
    DAYS_PER_PICK,
    SPAN_ANOMALIES,
    span_factors,
)

LABEL_COLUMNS = ["household_id", "day", "anomaly_type", "params", "seed"]


def day_rng(seed: int, household_id: str, day: dt.date) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(household_id.encode()), day.toordinal()])


class Planner:
    """Which days of a household are picked, and for which type: each (household, day) decided
    alone from its own generator, so a day's decision can be taken again without the others."""

    def __init__(self, *, seed: int, rate: float, start: dt.date, end: dt.date, types: tuple[str, ...]):
        weights = np.array([1.0 / DAYS_PER_PICK[kind] for kind in types])
        self.pick_rate = rate * weights.sum() / len(types)  # = rate / (labelled days per pick)
        self.cumulative = np.cumsum(weights / weights.sum())
        self.seed, self.start, self.end, self.types = seed, start, end, types

    def decide(self, household_id: str, day: dt.date) -> tuple[str, np.random.Generator] | None:
        if not self.start <= day <= self.end:
            return None
        rng = day_rng(self.seed, household_id, day)
        if rng.uniform() >= self.pick_rate:
            return None
        kind = int(np.searchsorted(self.cumulative, rng.uniform(), side="right"))
        return self.types[min(kind, len(self.types) - 1)], rng

    def plan(self, household_id: str, days: Iterable[dt.date]) -> dict:
        """{day: (anomaly_type, rng)} for the picked days of one household."""
        decided = ((day, self.decide(household_id, day)) for day in days)
        return {day: choice for day, choice in decided if choice is not None}


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
    plan = Planner(seed=seed, rate=rate, start=start, end=end, types=types).plan(household_id, days)
    labels = []
    kwh = out["kwh"].to_numpy(dtype=float).copy()
    spans: dict[dt.date, tuple[str, float, dict]] = {}
    for day, (kind, rng) in plan.items():
        if kind == COPIED_DAY:
            continue  # planted by copy_days, which sees the other households
        if kind in SPAN_ANOMALIES:
            params = SPAN_ANOMALIES[kind](rng)
            for k, factor in enumerate(span_factors(kind, params)):
                covered = day + dt.timedelta(days=k)
                if covered <= end and (covered == day or covered not in plan):
                    spans.setdefault(covered, (kind, factor, {**params, "first_day_ordinal": float(day.toordinal())}))
            continue
        rows = np.flatnonzero((day_of_row == day).to_numpy())
        kwh[rows], params = DAY_ANOMALIES[kind](kwh[rows], rng)
        labels.append((household_id, day, kind, params))
    for day, (kind, factor, params) in spans.items():
        rows = np.flatnonzero((day_of_row == day).to_numpy())
        if len(rows):
            kwh[rows] = kwh[rows] * factor
            labels.append((household_id, day, kind, {**params, "factor": factor}))
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


def copy_days(
    frame: pd.DataFrame, *, seed: int, rate: float, start: dt.date, end: dt.date, types: tuple[str, ...]
) -> pd.DataFrame:
    """``applyInPandas`` body over one day's rows of every household (after ``inject_frame``): each
    household whose day was picked as a ``copied_day`` gets the readings of a donor drawn among
    the households unlabelled that day, slot by slot. With no donor (a single household) the day
    stays as it was and unlabelled."""
    if frame.empty or COPIED_DAY not in types:
        return frame
    day = frame["ts"].iloc[0].date()
    planner = Planner(seed=seed, rate=rate, start=start, end=end, types=types)
    households = sorted(frame["household_id"].astype(str).unique())
    copied = {}
    for household_id in households:
        choice = planner.decide(household_id, day)
        if choice is not None and choice[0] == COPIED_DAY:
            copied[household_id] = choice[1]
    if not copied:
        return frame
    labelled = set(frame.loc[frame["anomaly_type"].notna(), "household_id"].astype(str))
    donors = [h for h in households if h not in copied and h not in labelled]
    if not donors:
        return frame
    out = frame.reset_index(drop=True)
    slot = out["ts"]
    for household_id, rng in copied.items():
        donor = donors[int(rng.integers(len(donors)))]
        donor_kwh = out.loc[out["household_id"] == donor].set_index("ts")["kwh"]
        rows = out["household_id"] == household_id
        out.loc[rows, "kwh"] = slot[rows].map(donor_kwh).fillna(out.loc[rows, "kwh"]).to_numpy()
        out.loc[rows, "anomaly_type"] = COPIED_DAY
        out.loc[rows, "anomaly_params"] = json.dumps({"donor": donor}, sort_keys=True)
    return out
