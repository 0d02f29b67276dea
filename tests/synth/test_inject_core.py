"""The injector's pandas core on real 2013 rows: each type changes labelled days exactly as it says,
and nothing else. No Spark."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from energy_anomaly.synth.anomalies import ANOMALY_TYPES
from energy_anomaly.synth.inject import copy_days, inject_household
from tests.conftest import SAMPLE_DIR

START, END = dt.date(2013, 9, 1), dt.date(2013, 12, 31)


@pytest.fixture(scope="module")
def real_household() -> pd.DataFrame:
    raw = pd.read_csv(SAMPLE_DIR / "halfhourly_2013" / "MAC000004.csv.gz", dtype=str)
    return pd.DataFrame(
        {
            "household_id": raw["LCLid"],
            "ts": pd.to_datetime(raw["tstp"]),
            "kwh": raw["energy(kWh/hh)"].str.strip().astype(float),
        }
    )


def by_day(frame):
    return {day: group["kwh"].to_numpy() for day, group in frame.groupby(frame["ts"].dt.date)}


def check_day(kind, old, new, p):
    if kind == "h1":
        np.testing.assert_allclose(new, old * p["alpha"])
        assert 0.1 <= p["alpha"] <= 0.8
    elif kind == "h2":
        s, d = int(p["start_slot"]), int(p["duration_slots"])
        assert 8 <= d <= 28 and (new[s : s + d] == 0).all()
        np.testing.assert_array_equal(np.delete(new, range(s, s + d)), np.delete(old, range(s, s + d)))
    elif kind == "h3":
        nz = old > 0
        assert ((new[nz] / old[nz] >= 0.1 - 1e-12) & (new[nz] / old[nz] <= 0.8 + 1e-12)).all() and (new[~nz] == 0).all()
    elif kind == "h4":
        ratio = new / old.mean()
        assert ((ratio >= 0.1 - 1e-12) & (ratio <= 0.8 + 1e-12)).all()
        assert ratio.mean() == pytest.approx(p["factor_mean"])
    elif kind == "h5":
        np.testing.assert_allclose(new, np.full_like(old, old.mean()))
    elif kind == "h6":
        np.testing.assert_array_equal(new, old[::-1])
    elif kind == "spike":
        changed = np.flatnonzero(new != old)
        assert len(changed) <= p["count"] and 5 <= p["multiplier"] <= 15
        np.testing.assert_allclose(
            new[changed], np.minimum(np.maximum(old[changed], old.mean()) * p["multiplier"], 12.0)
        )
    elif kind == "stuck":
        s, d = int(p["start_slot"]), int(p["duration_slots"])
        assert 6 <= d <= 16 and (new[s : s + d] == old[s]).all()
        np.testing.assert_array_equal(np.delete(new, range(s, s + d)), np.delete(old, range(s, s + d)))
    elif kind == "outage":
        assert (new == 0).all()
    elif kind == "level_shift":
        np.testing.assert_allclose(new, old * p["factor"])
        assert 0.3 <= p["factor"] <= 0.6 or 1.6 <= p["factor"] <= 2.5
    elif kind == "drift":
        np.testing.assert_allclose(new, old * p["factor"])
        assert 0.3 <= p["final"] - 1e-12 <= p["factor"] <= 0.9 + 1e-12 and 14 <= p["n_days"] <= 28
    elif kind == "tou_shift":
        s, d = int(p["start_slot"]), int(p["duration_slots"])
        assert 32 <= s <= 36 and 6 <= d <= 8 and 0.5 <= p["share"] <= 0.9
        assert new.sum() == pytest.approx(old.sum())
        np.testing.assert_allclose(new[s : s + d], old[s : s + d] * (1 - p["share"]))
        moved = (old[s : s + d] * p["share"]).sum()
        np.testing.assert_allclose(new[:14], old[:14] + moved / 14)
        np.testing.assert_array_equal(new[14:s], old[14:s])
    elif kind == "partial_bypass":
        s, d = int(p["start_slot"]), int(p["duration_slots"])
        assert 8 <= d <= 24 and 0.1 <= p["load_kwh"] <= 0.5
        np.testing.assert_allclose(new[s : s + d], np.maximum(old[s : s + d] - p["load_kwh"], 0.0))
        np.testing.assert_array_equal(np.delete(new, range(s, s + d)), np.delete(old, range(s, s + d)))
    elif kind == "clock_offset":
        assert 2 <= abs(p["offset_slots"]) <= 8
        np.testing.assert_array_equal(new, np.roll(old, int(p["offset_slots"])))
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize("kind", [t for t in ANOMALY_TYPES if t != "copied_day"])
def test_each_type_changes_labelled_days_as_it_says_and_nothing_else(real_household, kind):
    changed, labels = inject_household(real_household, seed=7, rate=0.2, start=START, end=END, types=(kind,))
    assert len(labels) >= 5 and set(labels["anomaly_type"]) == {kind}
    assert labels["day"].between(START, END).all()
    before, after = by_day(real_household), by_day(changed)
    labelled = dict(zip(labels["day"], labels["params"].map(json.loads)))
    for day, old in before.items():
        if day in labelled:
            check_day(kind, old, after[day], labelled[day])
        else:
            np.testing.assert_array_equal(after[day], old, err_msg=f"unlabelled day {day} changed")
    pd.testing.assert_series_equal(changed["ts"], real_household["ts"].sort_values().reset_index(drop=True))


@pytest.mark.parametrize("kind", ["level_shift", "drift"])
def test_multi_day_types_cover_consecutive_days(real_household, kind):
    _, labels = inject_household(real_household, seed=3, rate=0.05, start=START, end=END, types=(kind,))
    params = labels["params"].map(json.loads)
    for first, group in labels.groupby(params.map(lambda p: p["first_day_ordinal"])):
        days = sorted(group["day"])
        assert days[0] == dt.date.fromordinal(int(first))
        assert len(days) <= json.loads(group["params"].iloc[0])["n_days"]
        factors = [p["factor"] for p in group.sort_values("day")["params"].map(json.loads)]
        if kind == "drift":  # under-reads more each day, from 10 % on
            assert factors[0] == pytest.approx(0.9) and all(a > b for a, b in zip(factors, factors[1:]))


def _day_of_households(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2013-10-01", periods=48, freq="30min")
    return pd.concat(
        pd.DataFrame(
            {"household_id": f"MAC{h:06d}", "ts": ts, "kwh": rng.uniform(0.05, 1.0, 48), "anomaly_type": None}
        ).assign(anomaly_params=None)
        for h in range(n)
    ).reset_index(drop=True)


def test_a_copied_day_takes_a_donors_readings_of_the_same_day():
    day = _day_of_households(200, seed=1)
    day.loc[day["household_id"] == "MAC000003", "anomaly_type"] = "h1"  # labelled: never a donor
    out = copy_days(day, seed=4, rate=0.3, start=dt.date(2013, 9, 1), end=END, types=("copied_day", "h1"))
    copied = out[out["anomaly_type"] == "copied_day"]
    assert copied["household_id"].nunique() >= 10
    for household_id, rows in copied.groupby("household_id"):
        donor = json.loads(rows["anomaly_params"].iloc[0])["donor"]
        assert donor not in set(copied["household_id"]) | {household_id, "MAC000003"}
        np.testing.assert_array_equal(rows["kwh"].to_numpy(), day.loc[day["household_id"] == donor, "kwh"].to_numpy())
    untouched = ~out["household_id"].isin(copied["household_id"])
    pd.testing.assert_frame_equal(out[untouched], day[untouched])
    again = copy_days(
        day.sample(frac=1.0, random_state=2), seed=4, rate=0.3, start=START, end=END, types=("copied_day", "h1")
    )
    pd.testing.assert_frame_equal(
        again.sort_values(["household_id", "ts"]).reset_index(drop=True),
        out.sort_values(["household_id", "ts"]).reset_index(drop=True),
    )


def test_a_household_alone_keeps_its_copied_day_unlabelled():
    day = _day_of_households(1, seed=1)
    out = copy_days(day, seed=4, rate=1.0, start=START, end=END, types=("copied_day",))
    pd.testing.assert_frame_equal(out, day)


def test_rate_is_respected_over_the_period(real_household):
    _, labels = inject_household(
        real_household,
        seed=11,
        rate=0.1,
        start=START,
        end=END,
        types=tuple(t for t in ANOMALY_TYPES if t not in ("level_shift", "drift", "copied_day")),
    )
    assert 0.05 < len(labels) / ((END - START).days + 1) < 0.16


def test_same_seed_same_output_other_seed_different(real_household):
    a, la = inject_household(real_household, seed=5, rate=0.1, start=START, end=END)
    b, lb = inject_household(real_household.sample(frac=1.0, random_state=0), seed=5, rate=0.1, start=START, end=END)
    c, lc = inject_household(real_household, seed=6, rate=0.1, start=START, end=END)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(la, lb)
    assert not la["day"].equals(lc["day"]) or not a["kwh"].equals(c["kwh"])


def test_unknown_type_is_refused(real_household):
    with pytest.raises(ValueError, match="unknown anomaly types"):
        inject_household(real_household, seed=1, rate=0.1, start=START, end=END, types=("h9",))


def test_types_are_balanced_by_labelled_days_and_rate_is_the_labelled_share():
    # The protocol's rate over 600 households × 122 days of a flat 0.5 kWh (labels are what is
    # counted here, not values): ~3,600 labelled days, ~260 per type; a drift labels ~21 days a
    # pick, so its share varies most. Copied days are planted by copy_days (their own test).
    types = tuple(t for t in ANOMALY_TYPES if t != "copied_day")
    days = pd.date_range("2013-09-01", periods=122 * 48, freq="30min")
    labels = pd.concat(
        inject_household(
            pd.DataFrame({"household_id": f"MAC{n:06d}", "ts": days, "kwh": 0.5}),
            seed=9,
            rate=0.05,
            start=dt.date(2013, 9, 1),
            end=dt.date(2013, 12, 31),
            types=types,
        )[1]
        for n in range(600)
    )
    share = len(labels) / (600 * 122)
    assert 0.045 < share < 0.055
    per_type = labels["anomaly_type"].value_counts(normalize=True)
    assert set(per_type.index) == set(types)
    assert per_type.between(0.6 / len(types), 1.4 / len(types)).all(), per_type.to_dict()
