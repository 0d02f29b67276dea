"""What a Databricks notebook gets for free, for running the same notebooks locally.

On Databricks, ``spark`` and ``dbutils`` exist; locally ``notebook_context()`` builds the
embedded session and a ``dbutils`` whose widgets hold their defaults (or values preset by the
caller, e.g. a test), so ``notebooks/*.py`` run top to bottom unchanged in both places.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LocalWidgets:
    values: dict[str, str] = field(default_factory=dict)

    def text(self, name: str, default: str, label: str | None = None) -> None:
        self.values.setdefault(name, default)

    def dropdown(self, name: str, default: str, choices: list[str], label: str | None = None) -> None:
        self.values.setdefault(name, default)

    def get(self, name: str) -> str:
        return self.values[name]


@dataclass
class LocalDbutils:
    widgets: LocalWidgets = field(default_factory=LocalWidgets)


def notebook_context(config_path: str | None = None):
    """(spark, dbutils) for a notebook running outside Databricks."""
    from energy_anomaly.config import load_config
    from energy_anomaly.session import build_session

    return build_session(load_config(config_path).spark), LocalDbutils()
