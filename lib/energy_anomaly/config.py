"""YAML configuration (``conf/*.yaml``) loaded into frozen dataclasses.

Transforms never receive a config object: stages pick the scalars they need from it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from energy_anomaly.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = Path("conf/local.yaml")


@dataclass(frozen=True)
class SparkConfig:
    master: str | None = "local[2]"
    app_name: str = "energy-anomaly"
    driver_memory: str | None = "6g"
    shuffle_partitions: int | None = 16   # None: Spark's (or spark-submit's) setting
    delta_package: str = "io.delta:delta-spark_4.2_2.13:4.4.0"
    ui: bool = False
    conf: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestConfig:
    max_kwh_per_halfhour: float = 12.0


@dataclass(frozen=True)
class CleanConfig:
    max_gap_slots: int = 4


@dataclass(frozen=True)
class FeaturesConfig:
    bank_holidays: str = "data/lcl_sample/uk_bank_holidays.csv"


@dataclass(frozen=True)
class TrainConfig:
    start: str = "2013-01-01"
    end: str = "2013-08-31"
    per_stratum: int = 2000
    seed: int = 42
    threshold_quantile: float = 0.99
    epochs: int = 30


@dataclass(frozen=True)
class ScoreConfig:
    start: str = "2013-09-01"
    end: str = "2013-12-31"
    flag_model: str = "ensemble"


@dataclass(frozen=True)
class DemoConfig:
    sample_dir: str = "data/lcl_sample"


@dataclass(frozen=True)
class Config:
    warehouse: str = "warehouse"
    spark: SparkConfig = field(default_factory=SparkConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    clean: CleanConfig = field(default_factory=CleanConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    demo: DemoConfig = field(default_factory=DemoConfig)
    source: str = "<defaults>"

    def with_warehouse(self, warehouse: str | None) -> "Config":
        return self if warehouse is None else dataclasses.replace(self, warehouse=warehouse)


def _section(cls: type, raw: Any, name: str):
    if raw is None:
        return cls()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"config section '{name}' must be a mapping, got {type(raw).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"config section '{name}' has unknown keys: {', '.join(unknown)}")
    values = {}
    for key, value in raw.items():
        expected = str(known[key].type).removesuffix(" | None")
        if value is not None and expected in ("int", "float") and not isinstance(value, (int, float)):
            raise ConfigError(f"config '{name}.{key}' must be a number, got {value!r}")
        values[key] = float(value) if expected == "float" and value is not None else value
    return cls(**values)


def resolve_config_path(path: str | Path | None) -> Path:
    """The config file to read: the given path, else conf/local.yaml here or in the repository."""
    if path is not None:
        candidate = Path(path)
        if not candidate.is_file():
            raise ConfigError(f"config file not found: {candidate}")
        return candidate
    for candidate in (DEFAULT_CONFIG, REPO_ROOT / DEFAULT_CONFIG):
        if candidate.is_file():
            return candidate
    raise ConfigError(f"no --config given and {DEFAULT_CONFIG} not found")


def load_config(path: str | Path | None = None) -> Config:
    config_path = resolve_config_path(path)
    try:
        raw = yaml.safe_load(config_path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{config_path}: not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{config_path}: the top level must be a mapping")
    sections = {
        "spark": SparkConfig, "ingest": IngestConfig, "clean": CleanConfig, "features": FeaturesConfig,
        "train": TrainConfig, "score": ScoreConfig, "demo": DemoConfig,
    }
    unknown = sorted(set(raw) - set(sections) - {"warehouse"})
    if unknown:
        raise ConfigError(f"{config_path}: unknown top-level keys: {', '.join(unknown)}")
    return Config(
        warehouse=str(raw.get("warehouse", "warehouse")),
        source=str(config_path),
        **{name: _section(cls, raw.get(name), name) for name, cls in sections.items()},
    )
