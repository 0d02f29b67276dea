"""YAML config -> frozen dataclasses (pure Python)."""

import dataclasses

import pytest

from energy_anomaly.config import REPO_ROOT, load_config
from energy_anomaly.errors import ConfigError


def test_shipped_configs_load():
    local = load_config(REPO_ROOT / "conf" / "local.yaml")
    cluster = load_config(REPO_ROOT / "conf" / "cluster.yaml")
    assert local.spark.master == "local[2,3]"  # a lost task (a killed Python worker) is tried again
    assert cluster.spark.master is None
    assert local.clean.max_gap_slots == 4
    assert isinstance(local.ingest.max_kwh_per_halfhour, float)


def test_config_is_frozen_and_warehouse_overridable():
    config = load_config(REPO_ROOT / "conf" / "local.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.warehouse = "x"
    assert config.with_warehouse("/tmp/w").warehouse == "/tmp/w"
    assert config.with_warehouse(None) is config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clean:\n  max_gap_slot: 4\n", "unknown keys: max_gap_slot"),
        ("clean:\n  max_gap_slots: four\n", "'clean.max_gap_slots' must be a whole number"),
        ("clean:\n  max_gap_slots: 2.5\n", "'clean.max_gap_slots' must be a whole number, got 2.5"),
        ("clean:\n  max_gap_slots: true\n", "must be a whole number, got True"),
        ("clean:\n  max_gap_slots: -1\n", "from 0 to 48"),
        ("ingest:\n  max_kwh_per_halfhour: .nan\n", "'ingest.max_kwh_per_halfhour' must be a finite number"),
        ("ingest:\n  max_kwh_per_halfhour: .inf\n", "must be a finite number"),
        ("ingest:\n  max_kwh_per_halfhour: true\n", "must be a finite number, got True"),
        ("ingest:\n  max_kwh_per_halfhour: 0\n", "positive, finite"),
        ("ingest:\n  earliest_day: 2014-01-01\n  latest_day: 2013-01-01\n", "'ingest.latest_day' must be on or after"),
        ("spark:\n  master: 42\n", "'spark.master' must be a string, got 42"),
        ("spark:\n  ui: yes please\n", "'spark.ui' must be true or false"),
        ("spark:\n  driver_memory: lots\n", "JVM memory size"),
        ('score:\n  start: "2013-09-31"\n', "'score.start' must be a date YYYY-MM-DD, got '2013-09-31'"),
        ("score:\n  start: 2013-12-01\n  end: 2013-09-01\n", "'score.end' must be on or after score.start"),
        ("train:\n  start: 2013-01-01\n", "'train.end' must be given with train.start"),
        ("score:\n  flag_model: best\n", "'score.flag_model' must be one of"),
        ("train:\n  threshold_quantile: 1.5\n", "between 0 and 1"),
        ("warehouse: 7\n", "'warehouse' must be a folder or URI"),
        ("nonsense: 1\n", "unknown top-level keys"),
        ("- a\n- b\n", "must be a mapping"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_unquoted_yaml_dates_are_read_as_dates(tmp_path):
    path = tmp_path / "dates.yaml"
    path.write_text("score:\n  start: 2013-10-01\n  end: 2013-10-31\n")
    assert (load_config(path).score.start, load_config(path).score.end) == ("2013-10-01", "2013-10-31")
