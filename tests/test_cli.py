"""The command line before any Spark: --version, and inputs refused without starting the JVM."""

import pytest

from energy_anomaly import __version__
from energy_anomaly.cli import main


def test_version_names_the_package_and_the_spark_and_delta_it_runs_on(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"energy-anomaly {__version__} (pyspark 4.2") and "delta-spark 4.4" in out


def test_a_missing_input_is_one_line_before_the_jvm_starts(tmp_path, monkeypatch, capsys):
    def no_session(config):
        raise AssertionError("a Spark session was started for an input that does not exist")

    monkeypatch.setattr("energy_anomaly.commands.data.session", no_session)
    present = tmp_path / "present.csv"
    present.write_text("LCLid,tstp,energy(kWh/hh)\n")
    missing = tmp_path / "no such dir"
    status = main(["ingest", "--warehouse", str(tmp_path / "wh"), "--input", str(present), "--input", str(missing)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err == [f"energy-anomaly ingest: error: {missing}: no such file or directory"]
    missing_households = ["ingest", "--warehouse", str(tmp_path / "wh"), "--households", str(tmp_path / "info.csv")]
    assert main(missing_households) == 2


def test_an_unknown_anomaly_type_is_one_line_before_the_protocol_injects(tmp_path, monkeypatch, capsys):
    def no_protocol(*args, **kwargs):
        raise AssertionError("the protocol ran with an unknown anomaly type")

    monkeypatch.setattr("energy_anomaly.commands.pipeline.protocol", no_protocol)
    status = main(["protocol", "--warehouse", str(tmp_path / "wh"), "--types", "drift,meter_theft"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and "unknown anomaly types ['meter_theft']" in err[0]


def test_spark_s_console_bar_only_on_a_terminal(monkeypatch):
    import io

    from energy_anomaly.config import SparkConfig
    from energy_anomaly.session import embedded_conf

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert embedded_conf(SparkConfig())["spark.ui.showConsoleProgress"] == "false"
    monkeypatch.setattr("sys.stderr", Terminal())
    assert embedded_conf(SparkConfig())["spark.ui.showConsoleProgress"] == "true"


def test_progress_is_one_line_per_stage_and_json_is_the_last_line(capsys):
    import json

    from energy_anomaly.commands.progress import Progress, print_json

    progress = Progress(["ingest", "features"])
    with progress.step("ingest") as out:
        out.update(count=1234567, unit="readings", quarantined=3)
    with progress.step("features"):
        pass
    print_json({"command": "run", "stages": progress.done})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[1/2] ingest: 1,234,567 readings in ") and lines[0].endswith(" s")
    assert lines[1].startswith("[2/2] features: done in ")
    summary = json.loads(lines[-1])
    assert [s["stage"] for s in summary["stages"]] == ["ingest", "features"]
    assert summary["stages"][0]["quarantined"] == 3 and summary["stages"][0]["count"] == 1234567


def test_path_flags_become_absolute_from_where_the_command_runs(tmp_path, monkeypatch):
    """Spark may resolve a path elsewhere (a Spark Connect server, a cluster's driver): inputs and
    outputs are made absolute here, a cluster-side path (--python) and URIs are left alone."""
    import argparse

    from energy_anomaly.cli import absolute_path_arguments

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.csv").write_text("x")
    args = argparse.Namespace(input=["a.csv", "s3a://bucket/b.csv"], output="out", python="env/bin/python", labels=None)
    absolute_path_arguments(args)
    assert args.input == [str(tmp_path / "a.csv"), "s3a://bucket/b.csv"]
    assert args.output == str(tmp_path / "out") and args.python == "env/bin/python" and args.labels is None
