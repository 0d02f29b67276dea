"""Every notebook in notebooks/ runs top to bottom, cell by cell, against real pipeline output."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import matplotlib
import pytest

from energy_anomaly.config import REPO_ROOT
from energy_anomaly.notebook import LocalDbutils, LocalWidgets, local_display

pytestmark = [pytest.mark.spark, pytest.mark.slow]

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.py"))
CELL = "# COMMAND ----------"
# Widget values for the test: the fixture's warehouse and a quick training.
PRESETS = {"per_stratum": "400", "epochs": "2"}


def cells(path: Path) -> list[str]:
    text = path.read_text()
    assert text.startswith("# Databricks notebook source\n"), f"{path.name} is not in Databricks source format"
    return text.split(CELL)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_written_for_databricks(notebook):
    """display() where a person looks at a table, a %pip cell, settings from the config (no
    widget re-types a default the config holds)."""
    text = notebook.read_text()
    assert "# MAGIC %pip install" in text
    assert ".show(" not in text.replace("plt.show(", "")
    assert "notebook_config(dbutils)" in text
    assert not re.search(r'widgets\.\w+\("(warehouse|seed|threshold_quantile)"', text)


def test_there_are_notebooks_for_each_task():
    assert [p.name for p in NOTEBOOKS] == ["01_explore_data.py", "02_train_and_score.py", "03_investigate_household.py"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(spark, scored, notebook, tmp_path):
    matplotlib.use("Agg")
    warehouse = tmp_path / "warehouse"
    shutil.copytree(scored[0], warehouse)  # notebooks may retrain: never in the shared fixture
    widgets = LocalWidgets({"warehouse": str(warehouse), **PRESETS})
    namespace = {"spark": spark, "dbutils": LocalDbutils(widgets), "display": local_display}
    for number, source in enumerate(cells(notebook), start=1):
        try:
            exec(compile(source, f"{notebook.name}[cell {number}]", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"{notebook.name} cell {number} failed: {exc!r}") from exc
