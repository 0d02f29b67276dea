"""The --py-files zip and the spark-submit command line (the cluster run itself: test_cluster.py)."""

import subprocess
import sys
import zipfile

from energy_anomaly.deploy import package_zip, submit_command


def test_package_zip_holds_sources_and_data_but_no_caches(tmp_path):
    archive = package_zip(tmp_path)
    names = zipfile.ZipFile(archive).namelist()
    assert archive.name == "energy_anomaly-0.1.0.zip"
    assert {
        "energy_anomaly/__init__.py",
        "energy_anomaly/cli.py",
        "energy_anomaly/bi/dashboard.sql",
        "energy_anomaly/scoring/stage.py",
    } <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not list(tmp_path.glob("*.partial"))


def test_package_zip_is_reproducible(tmp_path):
    assert package_zip(tmp_path / "a").read_bytes() == package_zip(tmp_path / "b").read_bytes()


def test_the_zip_alone_is_importable(tmp_path):
    """What an executor does: the zip first on sys.path, data files read through the zip."""
    archive = package_zip(tmp_path)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import energy_anomaly.cli, energy_anomaly.bi.duckdb as d; "
        "assert energy_anomaly.cli.__file__.startswith(sys.argv[1]), energy_anomaly.cli.__file__; "
        "assert d.questions()"
    )
    subprocess.run([sys.executable, "-I", "-c", code, str(archive)], check=True, cwd=tmp_path)


def test_submit_command_ships_the_zip_delta_and_the_nodes_python():
    argv = submit_command(
        "score",
        ["--config", "conf/cluster.yaml"],
        master="spark://h:7077",
        py_files="dist/x.zip",
        delta_package="io.delta:delta-spark_4.2_2.13:4.4.0",
        python="/opt/env/bin/python",
    )
    assert argv[:3] == ["spark-submit", "--master", "spark://h:7077"]
    assert argv[argv.index("--py-files") + 1] == "dist/x.zip"
    assert argv[argv.index("--packages") + 1] == "io.delta:delta-spark_4.2_2.13:4.4.0"
    assert "spark.pyspark.python=/opt/env/bin/python" in argv
    assert argv[-3:] == ["jobs/score.py", "--config", "conf/cluster.yaml"]
