"""Hostile input: strings that reach SQL stay values, model artefacts are never executed, input
paths are read literally, and a crafted warehouse name cannot make DuckDB write a file."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

from energy_anomaly.cli import main
from energy_anomaly.errors import ArtifactError, EnergyAnomalyError
from energy_anomaly.evaluation.stage import report_dir, run_evaluate
from energy_anomaly.ingest.stage import run_ingest
from energy_anomaly.models.bundle import FOREST_FILE, Bundle, file_digest
from energy_anomaly.tables import models_dir, read_table
from tests.conftest import SCORED_END, SCORED_START, label_top_ensemble_days

pytestmark = [pytest.mark.spark, pytest.mark.slow]

HOSTILE_STRINGS = (
    "x\\' OR 1=1 --",
    "x' OR '1'='1",
    "'); DROP TABLE metrics; --",
    "a\\\\",
    "../../../outside",
    "$(touch pwned)",
)


@pytest.fixture(scope="module")
def evaluated(spark, scored, tmp_path_factory):
    """The scored warehouse with one ordinary evaluation run, ``kept``."""
    warehouse = scored[0]
    labels = label_top_ensemble_days(spark, warehouse, 10, str(tmp_path_factory.mktemp("hostile") / "labels"))
    run_evaluate(spark, warehouse, [labels], start=SCORED_START, end=SCORED_END, run_id="kept")
    return warehouse, labels


def metrics_by_run(spark, warehouse) -> dict[str, int]:
    return {
        r.run_id: r["count"] for r in read_table(spark, warehouse, "gold/metrics").groupBy("run_id").count().collect()
    }


def test_run_ids_reach_gold_metrics_as_values_only(spark, evaluated, capsys):
    warehouse, labels = evaluated
    kept = metrics_by_run(spark, warehouse)["kept"]
    for run_id in HOSTILE_STRINGS:
        status = main(
            [
                "evaluate",
                "--warehouse",
                warehouse,
                "--labels",
                labels,
                "--run-id",
                run_id,
                "--start",
                str(SCORED_START),
                "--end",
                str(SCORED_END),
            ]
        )
        assert status == 0
    runs = metrics_by_run(spark, warehouse)
    assert runs["kept"] == kept
    assert all(runs[run_id] == kept for run_id in HOSTILE_STRINGS)
    reports = Path(warehouse).resolve() / "reports"
    for run_id in HOSTILE_STRINGS:  # each report folder is one folder under reports/
        assert report_dir(warehouse, run_id).resolve().parent == reports
    assert not (Path.cwd() / "pwned").exists()


def tampered_copy(trained, tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(trained.path, copy)
    return copy


class Payload:
    """Unpickling this runs a shell command: what a crafted artefact in the warehouse would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("also_forge_the_digest", [False, True])
def test_a_tampered_forest_is_refused_and_never_executed(scored, tmp_path, also_forge_the_digest):
    bundle = tampered_copy(scored[1], tmp_path)
    marker = tmp_path / "executed"
    (bundle / FOREST_FILE).write_bytes(pickle.dumps(Payload(marker)))
    if also_forge_the_digest:  # an attacker who can write the artefact can write metadata.json too
        document = json.loads((bundle / "metadata.json").read_text())
        document["digests"][FOREST_FILE] = file_digest(bundle / FOREST_FILE)
        (bundle / "metadata.json").write_text(json.dumps(document))
    with pytest.raises(ArtifactError) as refused:
        Bundle.load(bundle)
    assert FOREST_FILE in str(refused.value) and "\n" not in str(refused.value)
    assert ("refused: not a forest" if also_forge_the_digest else "SHA-256 differs") in str(refused.value)
    assert not marker.exists()


def test_a_skops_file_with_untrusted_types_is_refused(scored, tmp_path):
    import skops.io as sio

    bundle = tampered_copy(scored[1], tmp_path)
    sio.dump({"run": os.system}, bundle / FOREST_FILE)  # a skops file naming a function to call
    document = json.loads((bundle / "metadata.json").read_text())
    document["digests"][FOREST_FILE] = file_digest(bundle / FOREST_FILE)
    (bundle / "metadata.json").write_text(json.dumps(document))
    with pytest.raises(ArtifactError, match="refused: not a forest of trusted types"):
        Bundle.load(bundle)


@pytest.mark.parametrize("pointer", ["/etc", "../../..", "v0123456789ab/../../x", "vdeadbeef0000"])
def test_a_registered_version_names_a_bundle_inside_models_only(tmp_path, pointer):
    """A registry entry whose bundle version is a path (written by anyone but train) is refused."""
    from energy_anomaly.config import Config
    from energy_anomaly.registry.store import BUNDLE_VERSION_TAG, METADATA_DIGEST_TAG, Registry

    warehouse = str(tmp_path / "warehouse")
    registry = Registry.of(Config(warehouse=warehouse))
    client = registry.client()
    client.create_registered_model(registry.model_name)
    tags = {BUNDLE_VERSION_TAG: pointer, METADATA_DIGEST_TAG: "0" * 64}
    version = client.create_model_version(registry.model_name, str(tmp_path / "anything"), tags=tags)
    client.set_registered_model_alias(registry.model_name, "champion", str(version.version))
    with pytest.raises(
        ArtifactError, match="carries no bundle version|no bundle in its artefacts|artefacts could not be read"
    ):
        registry.bundle_folder(warehouse)
    assert not models_dir(warehouse).exists() or not any(models_dir(warehouse).iterdir())


def test_glob_characters_in_file_names_are_read_literally(spark, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    rows = "".join(f"MAC000001,2013-01-01 0{h}:00:00,0.{h}\n" for h in range(6))
    for name in ("a?.csv", "ab.csv", "c[1].csv", "d{x,y}.csv", "e\\f.csv", "g*.csv"):
        (folder / name).write_text("LCLid,tstp,energy(kWh/hh)\n" + rows)
    warehouse = str(tmp_path / "warehouse")
    result = run_ingest(spark, warehouse, [str(folder)], None, 12.0)
    assert (result.lines_read, result.readings) == (36, 36)
    per_file = read_table(spark, warehouse, "bronze/readings").groupBy("source_file").count().collect()
    assert sorted(r["count"] for r in per_file) == [6] * 6
    single = run_ingest(
        spark, str(tmp_path / "w2"), [str(folder / "a?.csv")], None, 12.0
    )  # the file itself, not a pattern
    assert single.readings == 6


def test_a_file_name_hadoop_cannot_read_is_one_line_naming_it(spark, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.csv").write_text("LCLid,tstp,energy(kWh/hh)\nMAC000001,2013-01-01 00:00:00,0.1\n")
    (folder / "bad:name.csv").write_text("LCLid,tstp,energy(kWh/hh)\nMAC000001,2013-01-01 00:00:00,0.1\n")
    assert main(["ingest", "--warehouse", str(tmp_path / "warehouse"), "--input", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("energy-anomaly ingest: error: ") and "bad:name.csv" in err[-1]
    assert not (tmp_path / "warehouse" / "bronze").exists()


def test_duckdb_reads_a_warehouse_with_a_crafted_name_and_runs_nothing(evaluated, tmp_path, monkeypatch):
    from energy_anomaly.bi.duckdb import connect

    monkeypatch.chdir(tmp_path)
    hostile = tmp_path / "a'); COPY (SELECT 'owned' AS x) TO 'pwned.csv'; --"
    shutil.copytree(Path(evaluated[0]) / "gold" / "metrics", hostile / "gold" / "metrics")
    rows = connect(str(hostile)).execute("SELECT count(*) FROM metrics").fetchone()[0]
    assert rows > 0
    assert not list(tmp_path.rglob("pwned.csv"))


def test_bad_operations_are_one_line_with_exit_2(evaluated, tmp_path, capsys):
    warehouse, labels = evaluated
    unwritable = tmp_path / "ro"
    unwritable.mkdir()
    (unwritable / "warehouse").write_text("a file where the warehouse folder should be")
    cases = {
        "is not writable": ["clean", "--warehouse", str(unwritable / "warehouse")],
        "labels not found": ["evaluate", "--warehouse", warehouse, "--labels", str(tmp_path / "no-labels")],
        "not a model bundle": ["score", "--warehouse", warehouse, "--model", str(tmp_path / "no-model")],
    }
    for reason, argv in cases.items():
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert err and err[-1].startswith(f"energy-anomaly {argv[0]}: error: ") and reason in err[-1], err[-3:]


def test_a_warehouse_named_with_quotes_and_sql_is_just_a_folder(spark, tmp_path):
    """The table path is the one string that reaches a Spark identifier (``delta.`<path>```): quoted,
    it stays a name. A backtick is refused in one line (Delta's table builder does not escape it)."""
    source = tmp_path / "in.csv"
    source.write_text("LCLid,tstp,energy(kWh/hh)\nMAC000001,2013-01-01 00:00:00,0.5\n")
    with pytest.raises(EnergyAnomalyError, match="backtick"):
        run_ingest(spark, str(tmp_path / "w`x"), [str(source)], None, 12.0)
    warehouse = tmp_path / "w'h\"o; DROP TABLE x; --"
    for _ in range(2):  # the second run goes through the overwrite by condition
        assert run_ingest(spark, str(warehouse), [str(source)], None, 12.0).readings == 1
    assert read_table(spark, str(warehouse), "bronze/readings").count() == 1
