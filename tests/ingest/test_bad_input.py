"""Bad input files: a non-zero exit with one line naming the file, and no table touched."""

import gzip

import pytest
from delta.tables import DeltaTable

from energy_anomaly.cli import main
from energy_anomaly.errors import EnergyAnomalyError
from energy_anomaly.ingest.stage import check_files_read
from energy_anomaly.tables import table_path
from tests.conftest import SAMPLE_DIR

pytestmark = pytest.mark.spark

GOOD = SAMPLE_DIR / "halfhourly_2013" / "MAC000003.csv.gz"


def make_bad(tmp_path, kind):
    if kind == "missing":
        return tmp_path / "nope.csv"
    path = (
        tmp_path
        / {"empty": "empty.csv", "empty_gzip": "empty.csv.gz", "header": "weird.csv", "truncated": "cut.csv.gz"}[kind]
    )
    if kind == "empty":
        path.write_text("")
    elif kind == "empty_gzip":
        path.write_bytes(gzip.compress(b""))
    elif kind == "header":
        path.write_text("id,time,value\nMAC1,2013-01-01 00:00:00,0.1\n")
    else:
        data = GOOD.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return path


@pytest.fixture(scope="module")
def warehouse_with_data(spark, tmp_path_factory):
    warehouse = str(tmp_path_factory.mktemp("bad") / "warehouse")
    assert main(["ingest", "--warehouse", warehouse, "--input", str(GOOD)]) == 0
    return warehouse


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("missing", "no such file or directory"),
        ("empty", "empty file"),
        ("empty_gzip", "empty file"),
        ("header", "unknown header 'id,time,value'"),
        ("truncated", "truncated or corrupt compressed file"),
    ],
)
def test_bad_file_exits_nonzero_naming_the_file_and_writes_nothing(
    spark, warehouse_with_data, tmp_path, capsys, kind, reason
):
    bad = make_bad(tmp_path, kind)
    versions = {
        t: DeltaTable.forPath(spark, table_path(warehouse_with_data, t)).history(1).first().version
        for t in ("bronze/readings", "bronze/quarantine")
    }
    capsys.readouterr()

    status = main(["ingest", "--warehouse", warehouse_with_data, "--input", str(GOOD), "--input", str(bad)])

    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err[-1].startswith("energy-anomaly ingest: error: ")
    assert bad.name in err[-1] and reason in err[-1]
    for table, version in versions.items():
        assert DeltaTable.forPath(spark, table_path(warehouse_with_data, table)).history(1).first().version == version


def test_household_file_passed_as_readings_is_refused(warehouse_with_data, capsys):
    status = main(
        ["ingest", "--warehouse", warehouse_with_data, "--input", str(SAMPLE_DIR / "informations_households.csv.gz")]
    )
    assert status == 2
    assert "pass it as --households" in capsys.readouterr().err


def test_header_only_and_all_rejected_files_are_data_not_errors(spark, tmp_path, capsys):
    """A header-only file has no data lines; a file of rejects only goes to the quarantine. Both
    ingest cleanly, and re-ingesting a corrected file replaces its rejects."""
    header_only = tmp_path / "header_only.csv"
    header_only.write_text("LCLid,tstp,energy(kWh/hh)\n")
    rejects = tmp_path / "rejects.csv"
    rejects.write_text("LCLid,tstp,energy(kWh/hh)\nMAC000001,2013-01-01 00:00:00,Null\nMAC000001,2013,0.1\n")
    warehouse = str(tmp_path / "warehouse")
    capsys.readouterr()
    assert main(["ingest", "--warehouse", warehouse, "--input", str(header_only), "--input", str(rejects)]) == 0
    assert "2 data rows read = 0 bronze readings + 2 quarantined" in capsys.readouterr().out
    rejects.write_text("LCLid,tstp,energy(kWh/hh)\nMAC000001,2013-01-01 00:00:00,0.5\n")
    assert main(["ingest", "--warehouse", warehouse, "--input", str(rejects)]) == 0
    assert "1 data rows read = 1 bronze readings + 0 quarantined" in capsys.readouterr().out


def test_a_file_name_with_glob_characters_is_read_as_itself_and_no_other_file(spark, tmp_path, capsys):
    """``a?.csv`` as a Hadoop glob also matches ``ab.csv``: ingest reads the one file it was given,
    and a read that would take in other files is refused before anything is written."""
    header = "LCLid,tstp,energy(kWh/hh)\n"
    (tmp_path / "a?.csv").write_text(header + "MAC1,2013-01-01 00:00:00,0.1\n")
    (tmp_path / "ab.csv").write_text(header + "MAC2,2013-01-01 00:00:00,0.2\n")
    warehouse = str(tmp_path / "warehouse")
    assert main(["ingest", "--warehouse", warehouse, "--input", str(tmp_path / "a?.csv")]) == 0
    bronze = spark.read.format("delta").load(table_path(warehouse, "bronze/readings"))
    assert [r.household_id for r in bronze.collect()] == ["MAC1"]

    as_pattern = spark.read.text(str(tmp_path / "a?.csv"))  # unescaped: Hadoop expands the glob
    with pytest.raises(EnergyAnomalyError, match="ab.csv"):
        check_files_read(as_pattern, [(tmp_path / "a?.csv").as_uri()])
