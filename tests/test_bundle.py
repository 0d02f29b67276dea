"""databricks.yml, the Databricks Asset Bundle: checked offline against the bundle schema's typed
models (``databricks-bundles``, generated from the schema ``databricks bundle validate`` uses:
an unknown field or a bad enum value is refused), and against this package: every reference
resolves, every task runs the wheel's entry point with arguments the CLI accepts, the stages
depend on each other in pipeline order, and the paths are on Unity Catalog Volumes."""

from __future__ import annotations

import re

import pytest
import yaml
from databricks.bundles.jobs import Job

from energy_anomaly.cli import build_parser
from energy_anomaly.config import REPO_ROOT, load_config

BUNDLE = yaml.safe_load((REPO_ROOT / "databricks.yml").read_text())
# The bundle configuration's top-level mappings (docs.databricks.com, bundle configuration reference).
TOP_LEVEL = {
    "bundle", "variables", "include", "artifacts", "resources", "targets", "workspace", "sync",
    "permissions", "run_as", "experimental", "presets", "python", "scripts",
}  # fmt: skip
JOBS = BUNDLE["resources"]["jobs"]


def substituted(text: str, job: dict) -> str:
    """A task parameter as Databricks would pass it: variables' defaults, the workspace's file
    path, the job's parameters' defaults."""
    defaults = {name: spec["default"] for name, spec in BUNDLE["variables"].items()}
    text = re.sub(r"\$\{var\.(\w+)\}", lambda m: str(defaults[m.group(1)]), text)
    text = text.replace("${workspace.file_path}", str(REPO_ROOT))
    parameters = {p["name"]: substituted(p["default"], {}) for p in job.get("parameters", [])}
    return re.sub(r"\{\{job\.parameters\.(\w+)\}\}", lambda m: parameters[m.group(1)], text)


def test_the_bundle_has_only_known_sections_and_every_reference_resolves():
    assert set(BUNDLE) <= TOP_LEVEL
    assert BUNDLE["artifacts"]["energy_anomaly"]["type"] == "whl"
    text = (REPO_ROOT / "databricks.yml").read_text()
    assert set(re.findall(r"\$\{var\.(\w+)\}", text)) <= set(BUNDLE["variables"])
    assert set(re.findall(r"\$\{(\w+)\.", text)) <= {"var", "workspace"}
    for job in JOBS.values():
        names = {p["name"] for p in job.get("parameters", [])}
        assert set(re.findall(r"\{\{job\.parameters\.(\w+)\}\}", yaml.safe_dump(job))) <= names


@pytest.mark.parametrize("name", sorted(JOBS))
def test_each_job_matches_the_bundle_schema(name):
    Job.from_dict(JOBS[name])  # raises on an unknown field, a wrong type or enum value


@pytest.mark.parametrize("name", sorted(JOBS))
def test_each_task_runs_the_wheel_with_arguments_the_cli_accepts(name):
    job = JOBS[name]
    clusters = {c["job_cluster_key"] for c in job["job_clusters"]}
    for task in job["tasks"]:
        wheel = task["python_wheel_task"]
        assert (wheel["package_name"], wheel["entry_point"]) == ("energy_anomaly", "energy-anomaly")
        assert task["job_cluster_key"] in clusters and task["libraries"] == [{"whl": "./dist/*.whl"}]
        argv = [substituted(str(a), job) for a in wheel["parameters"]]
        args = build_parser().parse_args(argv)
        assert args.command == task["task_key"]
        assert args.warehouse.startswith("/Volumes/")
        assert load_config(args.config).mlflow.registry_uri == "databricks-uc"
    for cluster in job["job_clusters"]:
        # Standard access mode: Python reaches Spark through Spark Connect there.
        assert cluster["new_cluster"]["data_security_mode"] == "USER_ISOLATION"


def test_the_backfill_runs_the_stages_in_pipeline_order():
    tasks = JOBS["backfill"]["tasks"]
    assert [t["task_key"] for t in tasks] == ["ingest", "clean", "features", "train", "score"]
    for before, task in zip(tasks, tasks[1:]):
        assert task["depends_on"] == [{"task_key": before["task_key"]}]


def test_a_job_with_an_unknown_field_is_refused():
    with pytest.raises(ValueError, match="python_whl_task"):
        Job.from_dict({**JOBS["daily"], "tasks": [{"task_key": "x", "python_whl_task": {}}]})
