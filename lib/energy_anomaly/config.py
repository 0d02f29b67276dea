"""YAML configuration (``conf/*.yaml``) loaded into frozen dataclasses.

Transforms never receive a config object: stages pick the scalars they need from it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from energy_anomaly.catalog import SCORED_MODELS
from energy_anomaly.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
# What an installed wheel carries of the repository (setup.py copies it into the package): the
# default config and the real LCL sample, at the same relative paths as in the repository.
SHIPPED = Path(__file__).resolve().parent / "_shipped"
DEFAULT_CONFIG = Path("conf/local.yaml")


def _require(ok: bool, key: str, rule: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"config '{key}' must be {rule}, got {value!r}")


def iso_date(key: str, value: str) -> dt.date:
    """A config date (``YYYY-MM-DD``), or a one-line ConfigError naming the key."""
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"config '{key}' must be a date YYYY-MM-DD, got {value!r}") from None


def _period(section: str, start: str | None, end: str | None) -> None:
    """An optional period: neither end (the command decides), or both, in order."""
    first = None if start is None else iso_date(f"{section}.start", start)
    last = None if end is None else iso_date(f"{section}.end", end)
    if first is None and last is None:
        return
    _require(first is not None, f"{section}.start", f"given with {section}.end", start)
    _require(last is not None, f"{section}.end", f"given with {section}.start", end)
    _require(first <= last, f"{section}.end", f"on or after {section}.start ({first})", end)


MEMORY = re.compile(r"^[1-9][0-9]*[kmgtKMGT]?$")


@dataclass(frozen=True)
class SparkConfig:
    master: str | None = "local[2,3]"  # 2 cores, a failed task tried up to 3 times
    # A Spark Connect server (sc://host:port) to run on instead; SPARK_REMOTE does the same.
    remote: str | None = None
    app_name: str = "energy-anomaly"
    driver_memory: str | None = "6g"
    shuffle_partitions: int | None = 16  # None: Spark's (or spark-submit's) setting
    delta_package: str = "io.delta:delta-spark_4.2_2.13:4.4.0"
    ui: bool = False
    # On Java 25+, the daily update keeps the JVM's ahead-of-time cache (energy_anomaly.jvm_cache).
    jvm_cache: bool = True
    conf: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        _require(
            self.master is None or bool(self.master.strip()),
            "spark.master",
            "a Spark master URL such as local[2]",
            self.master,
        )
        _require(
            self.remote is None or bool(re.fullmatch(r"sc://[^\s/]+(/;[^\s]*)?", self.remote)),
            "spark.remote",
            "a Spark Connect URL such as sc://127.0.0.1:15002",
            self.remote,
        )
        _require(
            self.driver_memory is None or bool(MEMORY.match(self.driver_memory)),
            "spark.driver_memory",
            "a JVM memory size such as 6g",
            self.driver_memory,
        )
        _require(
            self.shuffle_partitions is None or self.shuffle_partitions >= 1,
            "spark.shuffle_partitions",
            "at least 1",
            self.shuffle_partitions,
        )
        for key, value in self.conf.items():
            _require(
                isinstance(key, str) and isinstance(value, (str, int, float, bool)),
                f"spark.conf.{key}",
                "a string, number or boolean",
                value,
            )


@dataclass(frozen=True)
class IngestConfig:
    max_kwh_per_halfhour: float = 12.0
    # Readings dated outside these days are quarantined as implausible_timestamp.
    earliest_day: str = "2000-01-01"
    latest_day: str = "2099-12-31"

    def __post_init__(self):
        _require(
            0 < self.max_kwh_per_halfhour < math.inf,
            "ingest.max_kwh_per_halfhour",
            "a positive, finite number of kWh",
            self.max_kwh_per_halfhour,
        )
        first, last = iso_date("ingest.earliest_day", self.earliest_day), iso_date("ingest.latest_day", self.latest_day)
        _require(first <= last, "ingest.latest_day", f"on or after ingest.earliest_day ({first})", self.latest_day)

    @property
    def plausible_days(self) -> tuple[dt.date, dt.date]:
        return dt.date.fromisoformat(self.earliest_day), dt.date.fromisoformat(self.latest_day)


@dataclass(frozen=True)
class CleanConfig:
    max_gap_slots: int = 4

    def __post_init__(self):
        _require(
            0 <= self.max_gap_slots <= 48,
            "clean.max_gap_slots",
            "a whole number of half-hours from 0 to 48",
            self.max_gap_slots,
        )


@dataclass(frozen=True)
class FeaturesConfig:
    bank_holidays: str = "data/lcl_sample/uk_bank_holidays.csv"
    weather: str | None = "data/lcl_sample/weather_daily_darksky.csv.gz"  # null: no temperature context


@dataclass(frozen=True)
class TrainConfig:
    start: str | None = None  # None: every day of gold/features
    end: str | None = None
    per_stratum: int = 2000
    seed: int = 42
    threshold_quantile: float = 0.99
    epochs: int = 30

    def __post_init__(self):
        _period("train", self.start, self.end)
        _require(self.per_stratum >= 1, "train.per_stratum", "at least 1", self.per_stratum)
        _require(
            0 < self.threshold_quantile < 1,
            "train.threshold_quantile",
            "between 0 and 1 (exclusive)",
            self.threshold_quantile,
        )
        _require(self.epochs >= 1, "train.epochs", "at least 1", self.epochs)


@dataclass(frozen=True)
class ScoreConfig:
    start: str | None = None  # None: every day not scored yet
    end: str | None = None
    flag_model: str = "ensemble"

    def __post_init__(self):
        _period("score", self.start, self.end)
        _require(
            self.flag_model in SCORED_MODELS, "score.flag_model", f"one of {', '.join(SCORED_MODELS)}", self.flag_model
        )


# A registered model's name: letters, digits, ``_ . -`` (MLflow's and Unity Catalog's common
# ground; ``catalog.schema.model`` for Unity Catalog).
MODEL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class MlflowConfig:
    """Where runs and registered models live. None: ``MLFLOW_TRACKING_URI`` /
    ``MLFLOW_REGISTRY_URI`` if set, else a SQLite store under ``<warehouse>/mlflow/``."""

    tracking_uri: str | None = None
    registry_uri: str | None = None
    experiment: str = "energy-anomaly"
    model_name: str = "energy-anomaly"

    def __post_init__(self):
        name_ok = bool(MODEL_NAME.fullmatch(self.model_name))
        _require(name_ok, "mlflow.model_name", "letters, digits, _ . -", self.model_name)
        _require(bool(self.experiment.strip()), "mlflow.experiment", "a name", self.experiment)


# Delta's own floor for VACUUM: files younger than this may still be read by a running query, a
# time-travel read or an update's Change Data Feed read of bronze.
MIN_VACUUM_RETENTION_HOURS = 168


@dataclass(frozen=True)
class MaintainConfig:
    vacuum_retention_hours: int = MIN_VACUUM_RETENTION_HOURS

    def __post_init__(self):
        _require(
            self.vacuum_retention_hours >= MIN_VACUUM_RETENTION_HOURS,
            "maintain.vacuum_retention_hours",
            f"at least {MIN_VACUUM_RETENTION_HOURS} (7 days: younger files may still be read)",
            self.vacuum_retention_hours,
        )


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
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    maintain: MaintainConfig = field(default_factory=MaintainConfig)
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
    values = {key: _typed(f"{name}.{key}", str(known[key].type), value) for key, value in raw.items()}
    return cls(**values)


def _typed(key: str, declared: str, value: Any) -> Any:
    """``value`` as the field's declared type, or a one-line ConfigError: YAML's ``true`` is not a
    number, ``2.5`` not a count, ``.nan`` not a bound, ``42`` not a master URL."""
    optional = declared.endswith(" | None")
    kind = declared.removesuffix(" | None")
    if value is None:
        _require(optional, key, f"set (a {kind})", value)
        return None
    if kind == "int":
        _require(isinstance(value, int) and not isinstance(value, bool), key, "a whole number", value)
    elif kind == "float":
        _require(
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
            key,
            "a finite number",
            value,
        )
        return float(value)
    elif kind == "bool":
        _require(isinstance(value, bool), key, "true or false", value)
    elif kind == "str":
        if isinstance(value, dt.date):  # YAML reads an unquoted 2013-09-01 as a date
            return value.isoformat()
        _require(isinstance(value, str), key, "a string", value)
    elif kind.startswith("Mapping"):
        _require(isinstance(value, Mapping), key, "a mapping", value)
    return value


def is_uri(path: str) -> bool:
    """A URI (``hdfs://``, ``s3a://``, ``dbfs:/``, ``file:/``...) rather than a local path."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:/", path) is not None


def local_path(path: str) -> str | None:
    """``path`` on this machine's file system (a plain path, a ``file:`` URI, a Unity Catalog
    Volume's ``/Volumes/...``), or None for other storage (``s3a://``, ``abfss://``, ...)."""
    if not is_uri(path):
        return path
    if path.startswith("file:"):
        return urllib.parse.unquote(urllib.parse.urlparse(path).path)
    return None


def resolve_path(path: str) -> str:
    """A local path made absolute: a relative one from the working directory, else from the
    repository (a source checkout), else from what the installed wheel ships (the sample data),
    else from the working directory (a glob, or a path not there yet). Absolute, because Spark
    may resolve it elsewhere (a Spark Connect server, a cluster's driver). URIs as given."""
    if is_uri(path):
        return path
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return os.path.abspath(candidate)
    for base in (REPO_ROOT, SHIPPED):
        if (base / candidate).exists():
            return str(base / candidate)
    return os.path.abspath(candidate)


def resolve_config_path(path: str | Path | None) -> Path:
    """The config file to read: the given path, else conf/local.yaml here, in the repository or
    in the installed package."""
    if path is not None:
        candidate = Path(path)
        if not candidate.is_file():
            raise ConfigError(f"config file not found: {candidate}")
        return candidate
    for candidate in (DEFAULT_CONFIG, REPO_ROOT / DEFAULT_CONFIG, SHIPPED / DEFAULT_CONFIG):
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
        "spark": SparkConfig,
        "ingest": IngestConfig,
        "clean": CleanConfig,
        "features": FeaturesConfig,
        "train": TrainConfig,
        "score": ScoreConfig,
        "mlflow": MlflowConfig,
        "maintain": MaintainConfig,
        "demo": DemoConfig,
    }
    unknown = sorted(set(raw) - set(sections) - {"warehouse"})
    if unknown:
        raise ConfigError(f"{config_path}: unknown top-level keys: {', '.join(unknown)}")
    warehouse = raw.get("warehouse", "warehouse")
    _require(isinstance(warehouse, str) and bool(warehouse.strip()), "warehouse", "a folder or URI", warehouse)
    return Config(
        warehouse=warehouse,
        source=str(config_path),
        **{name: _section(cls, raw.get(name), name) for name, cls in sections.items()},
    )
