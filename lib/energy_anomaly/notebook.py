"""What a Databricks notebook gets for free, for running the same notebooks locally.

On Databricks, ``spark``, ``dbutils`` and ``display`` exist; locally ``notebook_context()``
builds the embedded session, a ``dbutils`` whose widgets hold their defaults (or values preset
by the caller, e.g. a test) and a ``display`` that prints, so ``notebooks/*.py`` run top to
bottom unchanged in both places.
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


def local_display(obj, rows: int = 20) -> None:
    """Databricks' ``display`` outside Databricks: a DataFrame's first rows as text, a pandas frame
    or anything else printed."""
    show = getattr(obj, "show", None)
    if callable(show) and hasattr(obj, "schema"):
        show(rows, truncate=False)
    elif hasattr(obj, "to_string"):
        print(obj.head(rows).to_string())
    else:
        print(obj)


def notebook_context(config_path: str | None = None):
    """(spark, dbutils, display) for a notebook running outside Databricks."""
    from energy_anomaly.config import load_config
    from energy_anomaly.session import build_session

    return build_session(load_config(config_path).spark), LocalDbutils(), local_display


def notebook_config(dbutils):
    """The notebook's settings, read from the config, not re-typed: a ``config`` widget (empty:
    conf/local.yaml here, in the repository or in the installed package) and a ``warehouse``
    widget whose default is the config's."""
    from energy_anomaly.config import load_config

    dbutils.widgets.text("config", "", "Config YAML (empty: the default)")
    config = load_config(dbutils.widgets.get("config") or None)
    dbutils.widgets.text("warehouse", config.warehouse, "Delta warehouse")
    return config.with_warehouse(dbutils.widgets.get("warehouse"))
