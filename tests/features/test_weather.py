"""London's temperature as each day's context: read from the LCL release's DarkSky file, and on
every gold/features row of a day it covers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from pyspark.sql import functions as F

from energy_anomaly import catalog
from energy_anomaly.errors import InputFileError
from energy_anomaly.features.stage import read_weather
from energy_anomaly.tables import read_table
from tests.conftest import WEATHER

pytestmark = pytest.mark.spark


def test_temperature_is_the_days_mean_and_the_delta_is_against_the_28_days_before(spark):
    raw = pd.read_csv(WEATHER, usecols=["time", "temperatureMax", "temperatureMin"])
    raw["day"] = pd.to_datetime(raw["time"].str[:10]).dt.date
    expected = ((raw["temperatureMax"] + raw["temperatureMin"]) / 2).groupby(raw["day"]).mean()
    weather = read_weather(spark, WEATHER).toPandas().set_index("day")
    assert len(weather) == len(expected)
    pd.testing.assert_series_equal(weather["temperature"].sort_index(), expected.sort_index(), check_names=False)

    day = dt.date(2013, 1, 16)  # the January 2013 cold snap
    before = expected[(expected.index >= day - dt.timedelta(days=28)) & (expected.index < day)]
    assert weather.loc[day, "temperature_delta"] == pytest.approx(expected[day] - before.mean())
    assert weather.loc[day, "temperature_delta"] < -5
    first = min(expected.index)  # nothing before it: no delta
    assert pd.isna(weather.loc[first, "temperature_delta"])


def test_a_file_that_is_not_daily_weather_is_refused_in_one_line(spark, tmp_path):
    with pytest.raises(InputFileError, match="weather file not found"):
        read_weather(spark, str(tmp_path / "missing.csv"))
    other = tmp_path / "hourly.csv"
    other.write_text("time,temperature\n2013-01-01 00:00:00,3.2\n")
    with pytest.raises(InputFileError, match="not a DarkSky daily weather file: no temperatureMax, temperatureMin"):
        read_weather(spark, str(other))


def test_rows_without_a_date_or_temperatures_are_counted_and_give_no_day(spark, tmp_path, caplog):
    days = [f"2013-01-{d:02d} 00:00:00" for d in range(1, 11)]
    lines = [f"{t},{5 + i},{1 + i},x" for i, t in enumerate(days)]
    lines[3] = "yesterday,4,2,x"  # no date
    lines[5] = f"{days[5]},,2,x"  # no high
    path = tmp_path / "weather.csv"
    path.write_text("time,temperatureMax,temperatureMin,summary\n" + "\n".join(lines) + "\n")
    with caplog.at_level("WARNING", logger="energy_anomaly.features.stage"):
        weather = read_weather(spark, str(path)).toPandas().set_index("day")
    assert "2 row(s) without a date or temperatures ignored" in caplog.text
    assert len(weather) == 8 and dt.date(2013, 1, 4) not in weather.index
    assert weather.loc[dt.date(2013, 1, 1), "temperature"] == 3.0
    # A delta needs 7 days with weather before it: the 9th has 6 (the 4th and 6th have none),
    # the 10th has 7, whose mean is (3 + 4 + 5 + 7 + 9 + 10 + 11) / 7 = 7.
    assert pd.isna(weather.loc[dt.date(2013, 1, 9), "temperature_delta"])
    assert weather.loc[dt.date(2013, 1, 10), "temperature_delta"] == pytest.approx(12.0 - 7.0)


def test_every_features_row_carries_its_days_temperature(spark, scored):
    warehouse, _, _ = scored
    features = read_table(spark, warehouse, catalog.GOLD_FEATURES)
    joined = features.join(read_weather(spark, WEATHER).withColumnRenamed("temperature", "expected"), "day", "left")
    # The file misses a few days of 2013: their rows have no temperature, the others have theirs.
    assert joined.where(F.col("expected").isNull()).select("day").distinct().count() <= 2
    differing = joined.where(~F.col("temperature").eqNullSafe(F.col("expected"))).count()
    assert differing == 0
