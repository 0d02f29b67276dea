"""Day features of one household, on tiny inline data (pandas only)."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from energy_anomaly.features.core import household_features, longest_repeat, previous_days_quantiles

SHAPE = np.concatenate([np.full(12, 0.2), np.linspace(0.3, 1.0, 24), np.full(12, 0.5)])


def daily(days):
    """days: list of (offset, values or None for an incomplete day)."""
    rows = []
    for offset, values in days:
        complete = values is not None
        kwh = list(values) if complete else [0.1] * 40 + [None] * 8
        rows.append(("H", dt.date(2013, 1, 1) + dt.timedelta(days=offset), kwh, complete))
    return pd.DataFrame(rows, columns=["household_id", "day", "kwh", "is_complete"])


def test_baselines_use_previous_days_only_and_calendar_gaps():
    days = [(i, SHAPE * (1 + i)) for i in range(5)] + [(9, SHAPE * 10)]
    f = household_features(daily(days)).set_index("day")
    totals = {i: SHAPE.sum() * (1 + i) for i in range(5)}
    assert np.isnan(f["baseline_7"].iloc[0]) and np.isnan(f["baseline_7"].iloc[2])  # fewer than 3 previous days
    assert f["baseline_7"].iloc[3] == pytest.approx(np.mean([totals[0], totals[1], totals[2]]))
    assert f["dev_7"].iloc[4] == pytest.approx(totals[4] / np.mean([totals[i] for i in range(4)]) - 1)
    # day 9: the previous 7 calendar days are days 2..8, of which 2, 3, 4 exist
    assert f["baseline_7"].iloc[5] == pytest.approx(np.mean([totals[2], totals[3], totals[4]]))


def test_shape_features_see_reversal_stuck_and_zero_days():
    normal = [(i, SHAPE) for i in range(28)]
    stuck = SHAPE.copy()
    stuck[20:32] = stuck[20]  # inside the ramp, away from the flat night and evening
    f = household_features(daily(normal + [(28, SHAPE[::-1]), (29, stuck), (30, np.zeros(48)), (31, None)]))
    reversed_day, stuck_day, zero_day, incomplete = f.iloc[28], f.iloc[29], f.iloc[30], f.iloc[31]
    assert f.iloc[27]["profile_corr_28"] == pytest.approx(1.0)
    assert f.iloc[27]["profile_dist_28"] == pytest.approx(0.0, abs=1e-12)
    assert reversed_day["profile_corr_28"] < 0
    assert stuck_day["max_repeat_share"] == pytest.approx(12 / 48)
    assert zero_day["zero_share"] == 1.0 and zero_day["dev_28"] == pytest.approx(-1.0)
    assert not incomplete["is_complete"] and np.isnan(incomplete["dev_7"]) and np.isnan(incomplete["daily_kwh"])
    assert f.iloc[27]["level"] == pytest.approx(SHAPE.mean())
    np.testing.assert_allclose(f.iloc[27]["profile"], SHAPE / SHAPE.mean())


def test_a_day_lived_hours_off_the_household_s_clock_gains_from_shifting():
    normal = [(i, SHAPE + 0.05 * np.sin(np.arange(48) / 3 + i)) for i in range(28)]
    f = household_features(daily(normal + [(28, np.roll(SHAPE, 6)), (29, SHAPE * 1.3), (30, np.ones(48))]))
    shifted, scaled, flat = f.iloc[28], f.iloc[29], f.iloc[30]
    assert shifted["shift_gain_28"] > 0.3  # 3 hours late: fits the usual day moved back
    assert scaled["shift_gain_28"] == pytest.approx(0.0, abs=0.02)  # same timing, more of it
    assert flat["shift_gain_28"] == 0.0  # no shape: no correlation to gain
    assert np.isnan(f.iloc[3]["shift_gain_28"])  # no 28-day profile yet


def test_a_time_shift_counts_against_how_often_the_household_s_days_shift():
    rng = np.random.default_rng(4)
    regular = [(i, SHAPE * rng.uniform(0.95, 1.05)) for i in range(91)]
    irregular = [(i, np.roll(SHAPE, int(rng.integers(-4, 5))) * rng.uniform(0.95, 1.05)) for i in range(91)]
    late = (91, np.roll(SHAPE, 6))  # 3 hours late
    steady, erratic = (household_features(daily(days + [late])).iloc[-1] for days in (regular, irregular))
    assert steady["shift_gain_28"] > 0.3 and erratic["shift_gain_28"] > 0.1
    # The same late day is far outside the regular household's habits, within the erratic one's.
    assert steady["z_shift_gain_28"] > 10 and abs(erratic["z_shift_gain_28"]) < 0.25 * steady["z_shift_gain_28"]


def test_a_day_busy_in_the_household_s_quiet_hours_has_a_quiet_gap():
    normal = [(i, SHAPE + 0.05 * np.sin(np.arange(48) / 3 + i)) for i in range(28)]
    into_night = SHAPE.copy()
    into_night[:12] += 0.6  # evening load moved into the night (time-of-use shifting)
    days = [(28, np.roll(SHAPE, 16)), (29, into_night), (30, SHAPE * 0.4), (31, SHAPE * 2.0), (32, np.zeros(48))]
    f = household_features(daily(normal + days))
    moved, shifted, lower, higher, empty = (f.iloc[i] for i in range(28, 33))
    assert f.iloc[27]["quiet_gap_28"] == pytest.approx(0.0, abs=0.05)  # quietest where it usually is
    assert moved["quiet_gap_28"] > 0.5 and shifted["quiet_gap_28"] > 0.5
    # A day only scaled keeps its quietest hours where they were: no gap, whatever its level.
    assert lower["quiet_gap_28"] == pytest.approx(0.0, abs=1e-12)
    assert higher["quiet_gap_28"] == pytest.approx(0.0, abs=1e-12)
    assert empty["quiet_gap_28"] == 0.0  # no load anywhere: nothing moved
    assert np.isnan(f.iloc[3]["quiet_gap_28"])  # no 28-day profile yet
    assert moved["z_quiet_gap_28"] > 3  # against the household's own days, all at ~0


def test_longest_repeat_runs():
    x = np.array([[1.0] * 5 + list(range(43))])
    assert longest_repeat(x)[0] == 5


def test_base_load_falls_with_scaled_readings_and_not_with_a_busy_evening():
    rng = np.random.default_rng(0)
    normal = [(i, SHAPE * rng.uniform(0.9, 1.1)) for i in range(28)]
    busy = SHAPE.copy()
    busy[36:44] *= 3  # guests in the evening: more kWh, same always-on load
    f = household_features(daily(normal + [(28, SHAPE * 0.5), (29, busy)]))
    scaled, busy_day = f.iloc[28], f.iloc[29]
    assert scaled["log_base"] == pytest.approx(np.log(0.2 * 0.5 + 0.02))  # the 6 lowest half-hours are 0.2 kWh
    assert scaled["z_log_base"] < -5
    assert abs(busy_day["z_log_base"]) < 1 and busy_day["z_log_total"] > 2


def test_a_household_back_from_three_weeks_away_is_at_its_own_normal(monkeypatch):
    from energy_anomaly.features import core

    rng = np.random.default_rng(0)
    home = [(i, SHAPE * rng.uniform(0.9, 1.1)) for i in range(60)]
    away = [(i, SHAPE * 0.1) for i in range(60, 81)]
    back = [(i, SHAPE * rng.uniform(0.9, 1.1)) for i in range(81, 87)]
    days = daily(home + away + back)
    f = household_features(days)
    # Against the last 91 days the days back are the household's normal; z_ is the smaller of the
    # two windows' z, so they are not flagged. The first day away is unusual against both.
    assert np.abs(f["z_log_total"].iloc[81:87]).max() < 0.5
    assert f["z_log_total"].iloc[60] < -5
    # Against the last 28 days alone (21 of them empty) every day back would be out of the ordinary.
    monkeypatch.setattr(core, "HISTORY_WINDOWS", (28,))
    assert household_features(days)["z_log_total"].iloc[81:87].min() > 2


def test_log_scale_follows_a_scaled_day_and_not_a_few_busy_half_hours():
    normal = [(i, SHAPE * (1 + 0.02 * np.sin(i))) for i in range(40)]
    busy = SHAPE.copy()
    busy[[30, 31, 40]] *= 10  # cooking and a wash
    f = household_features(daily(normal + [(40, SHAPE * 0.5), (41, busy)]))
    usual, scaled, busy_day = f.iloc[39], f.iloc[40], f.iloc[41]
    assert abs(usual["log_scale"]) < 0.03
    # each half-hour at half its usual: log((p/2 + 0.1) / (p + 0.1)), the median over the day's values
    assert scaled["log_scale"] < np.log(0.65) and scaled["z_log_scale"] < -5
    assert abs(busy_day["log_scale"]) < 0.05 and busy_day["log_total"] - usual["log_total"] > 0.5
    assert np.isnan(f.iloc[3]["log_scale"])  # no 28-day profile yet


def test_a_slow_decline_stands_out_against_the_quarter_where_the_month_follows_it():
    rng = np.random.default_rng(2)
    steady = [(i, SHAPE * rng.uniform(0.95, 1.05)) for i in range(91)]
    decline = [(91 + k, SHAPE * (0.9 - 0.5 * k / 27)) for k in range(28)]  # to 0.4 over four weeks
    last = household_features(daily(steady + decline)).iloc[-1]
    # The month's median went down with it; the quarter's is still the steady days'.
    assert last["z91_log_base"] < -3.5 and abs(last["z_log_base"]) < 0.6 * abs(last["z91_log_base"])
    assert last["z91_log_scale"] < -1.5 and abs(last["z_log_scale"]) < 0.5


@pytest.mark.parametrize("block", [None, 64])  # 64: 300 positions in five blocks and a part
@pytest.mark.parametrize("window", [28, 91])
def test_previous_days_quantiles_are_pandas_rolling_quantiles_of_the_days_before(window, block, monkeypatch):
    if block:
        monkeypatch.setattr("energy_anomaly.features.core.QUANTILE_BLOCK", block)
    rng = np.random.default_rng(5)
    values = rng.normal(size=(300, 3))
    values[rng.random(values.shape) < 0.2] = np.nan
    values[100:130] = np.nan  # a month away: windows fall below min_periods, then refill
    values[200:260, 1] = 0.5  # ties
    rolling = pd.DataFrame(values).rolling(window, min_periods=7)
    quantiles = (0.1, 0.25, 0.5, 0.9)
    expected = [rolling.quantile(q) for q in quantiles]
    got = previous_days_quantiles(values, window, 7, quantiles)
    for ours, theirs in zip(got, expected):
        np.testing.assert_allclose(ours, theirs.shift(1).to_numpy(), rtol=0, atol=1e-12)


def test_a_day_s_features_need_only_its_bounded_history():
    """update recomputes new days from HISTORY_DEPENDENCE_DAYS of history: the values must be the
    ones the whole series gives, to the bit."""
    from energy_anomaly.features.core import HISTORY_DEPENDENCE_DAYS

    rng = np.random.default_rng(3)
    days = [(i, SHAPE * rng.uniform(0.5, 1.5) if i % 11 else None) for i in range(400) if i % 37 != 5]
    whole = household_features(daily(days)).set_index("day")
    first_new = dt.date(2013, 1, 1) + dt.timedelta(days=302)  # days 155, 183, 211 complete
    since = first_new - dt.timedelta(days=HISTORY_DEPENDENCE_DAYS)
    sliced = daily(days)
    sliced = sliced[sliced["day"] >= since]
    part = household_features(sliced).set_index("day").loc[first_new:]
    expected = whole.loc[first_new:]
    pd.testing.assert_frame_equal(part.drop(columns="profile"), expected.drop(columns="profile"), check_exact=True)
    np.testing.assert_array_equal(np.stack(part["profile"]), np.stack(expected["profile"]))


def test_stored_history_gives_the_features_a_whole_run_gives():
    """update computes new days from gold/features' stored rows of the days before them (totals,
    profiles, statistics) and their own silver/daily rows: the values of a whole run, to the bit."""
    from energy_anomaly.features.core import HISTORY_COLUMNS, STORED_HISTORY_DAYS

    rng = np.random.default_rng(5)
    days = [(i, SHAPE * rng.uniform(0.5, 1.5) if i % 13 else None) for i in range(330) if i % 41 != 7]
    days += [(330, np.zeros(48)), (331, SHAPE[::-1]), (333, SHAPE * 4)]
    whole = household_features(daily(days))
    for first_new in (dt.date(2013, 1, 1) + dt.timedelta(days=d) for d in (3, 95, 300, 331)):
        stored = whole[
            (whole["day"] < first_new) & (whole["day"] >= first_new - dt.timedelta(days=STORED_HISTORY_DAYS))
        ]
        new = daily(days)
        part = household_features(new[new["day"] >= first_new], history=stored[list(HISTORY_COLUMNS)]).set_index("day")
        expected = whole.set_index("day").loc[first_new:]
        pd.testing.assert_frame_equal(part.drop(columns="profile"), expected.drop(columns="profile"), check_exact=True)
        np.testing.assert_array_equal(np.stack(part["profile"]), np.stack(expected["profile"]))


@pytest.mark.parametrize("chunk_rows", [10_000, 60])
def test_households_continued_together_get_their_own_features(monkeypatch, chunk_rows):
    """update's mapInPandas computes many households in one grid (or a few: ``chunk_rows``), from
    rows in any order: each household gets the features its own whole run gives."""
    from energy_anomaly.features import core
    from energy_anomaly.features.core import HISTORY_COLUMNS, STORED_HISTORY_DAYS, continued_features

    monkeypatch.setattr(core, "CHUNK_ROWS", chunk_rows)

    rng = np.random.default_rng(11)
    frames = []
    for n in range(4):
        start = int(rng.integers(0, 60))  # households whose calendars differ
        days = [(i, SHAPE * rng.uniform(0.4, 1.8) if i % (11 + n) else None) for i in range(start, start + 250)]
        frames.append(daily([d for d in days if d[0] % (17 + n) != 3]).assign(household_id=f"H{n}"))
    whole = pd.concat([household_features(f) for f in frames], ignore_index=True)
    first_new = dt.date(2013, 8, 1)
    since = first_new - dt.timedelta(days=STORED_HISTORY_DAYS)
    every = pd.concat(frames, ignore_index=True)
    stored = whole[(whole["day"] < first_new) & (whole["day"] >= since)][list(HISTORY_COLUMNS)]
    rows = pd.concat(
        [every[every["day"] >= first_new].assign(is_history=False), stored.assign(is_history=True)], ignore_index=True
    ).sample(frac=1, random_state=0)
    got = pd.concat(list(continued_features(iter([rows.iloc[:200], rows.iloc[200:]]))), ignore_index=True)
    got = got.sort_values(["household_id", "day"]).reset_index(drop=True)
    expected = whole[whole["day"] >= first_new].sort_values(["household_id", "day"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got.drop(columns="profile"), expected.drop(columns="profile"), check_exact=True)
    np.testing.assert_array_equal(np.stack(got["profile"]), np.stack(expected["profile"]))
    # A partition no household hashed to brings no batch at all, and gives no rows.
    assert list(continued_features(iter([]))) == []
