"""The ``reason`` of a flagged day comes from its features, by the first rule that holds; a day
with no history (no z-statistics) holds only the level rules, else is ``shape``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy_anomaly.scoring.reasons import REASONS, reasons

ORDINARY = {
    "zero_share": 0.0,
    "z_zero_share": 0.0,
    "max_repeat_share": 2 / 48,
    "z_max_repeat_share": 0.0,
    "dev_28": 0.05,
    "z_max_over_mean": 0.5,
    "z_cv": -0.4,
    "z_night_share": 0.3,
    "shift_gain_28": 0.02,
    "z_log_scale": -0.5,
    "z91_log_scale": -1.0,
    "z91_log_base": 0.5,
    "z_quiet_gap_28": 0.8,
}


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({}, "shape"),
        ({"zero_share": 8 / 48, "z_zero_share": 12.0, "dev_28": -0.6}, "zero_interval"),
        ({"zero_share": 8 / 48, "z_zero_share": 0.5}, "shape"),  # zeros are this household's normal
        ({"max_repeat_share": 20 / 48, "z_max_repeat_share": 9.0, "z_cv": -5.0}, "stuck"),
        ({"dev_28": -0.7}, "low_level"),
        ({"dev_28": 1.5, "z_max_over_mean": 4.0}, "high_level"),
        ({"z_log_scale": -4.0, "dev_28": -0.3}, "under_reading"),  # every half-hour at 70 %
        ({"z91_log_base": -3.5, "z_max_over_mean": 4.0}, "under_reading"),  # below the quarter's level
        ({"z_log_scale": 4.0}, "shape"),  # more than usual at every hour but not twice: no rule
        ({"z_max_over_mean": 5.0}, "spike"),
        ({"z_cv": -4.0}, "flat"),
        ({"shift_gain_28": 0.6, "z_night_share": 3.5}, "time_shift"),
        ({"z_night_share": 3.5}, "load_shift"),
        ({"z_night_share": -3.5}, "load_shift"),
        ({"z_quiet_gap_28": 6.0}, "quiet_hours"),
        ({"z_quiet_gap_28": -6.0}, "shape"),  # quieter than usual in its quiet hours: no rule
        ({"z_zero_share": np.nan, "z_max_repeat_share": np.nan, "z_cv": np.nan, "zero_share": 0.5}, "shape"),
        ({"z_cv": np.nan, "dev_28": -0.8}, "low_level"),
    ],
)
def test_the_first_rule_that_holds_names_the_day(changed, expected):
    assert reasons(pd.DataFrame([{**ORDINARY, **changed}]))[0] == expected


def test_every_row_gets_one_of_the_reasons():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({name: rng.normal(0, 3, 500) for name in ORDINARY})
    frame.loc[::7, "z_cv"] = np.nan
    got = reasons(frame)
    assert len(got) == 500 and set(got) <= set(REASONS)


def test_columns_not_passed_hold_no_rule():
    """The registry's pyfunc model is given only what the detectors read."""
    assert list(reasons(pd.DataFrame({"dev_28": [-0.8, 0.1]}))) == ["low_level", "shape"]
