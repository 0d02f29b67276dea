"""YAML config -> frozen dataclasses (pure Python)."""
import dataclasses

import pytest

from energy_anomaly.config import REPO_ROOT, load_config
from energy_anomaly.errors import ConfigError


def test_shipped_configs_load():
    local = load_config(REPO_ROOT / "conf" / "local.yaml")
    cluster = load_config(REPO_ROOT / "conf" / "cluster.yaml")
    assert local.spark.master == "local[2]"
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
        ("clean:\n  max_gap_slots: four\n", "must be a number"),
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
