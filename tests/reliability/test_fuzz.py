"""Property-based fuzzing of the line parser and of whole files (hypothesis).

The invariant: every data line of every file ends in exactly one of bronze/readings and
bronze/quarantine, counted here without Spark; and every reading that reaches bronze is in the
documented grammar (a plausible day, a finite kWh in [0, max], an id in ``ID_GRAMMAR``).
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyspark.sql import functions as F

from energy_anomaly.ingest.layouts import DATASTORE_3COL, KAGGLE
from energy_anomaly.ingest.parse import EARLIEST_DAY, ID_GRAMMAR, LATEST_DAY, parse_reading_lines
from energy_anomaly.ingest.stage import run_ingest
from energy_anomaly.tables import read_table
from tests.reliability.conftest import data_lines, file_of

pytestmark = [pytest.mark.spark, pytest.mark.slow]

MAX_KWH = 12.0
HEADERS = {KAGGLE: b"LCLid,tstp,energy(kWh/hh)", DATASTORE_3COL: b"LCLid,DateTime,KWH/hh (per half hour) "}

ids = st.one_of(
    st.from_regex(r"MAC[0-9]{6}", fullmatch=True),
    st.text(min_size=0, max_size=12),
    st.sampled_from(
        ["MAC000002'; DROP TABLE x; --", "\tMAC000002\u00a0", "\u200bMAC1", "lclid", "MAC 1", "$(touch x)"]
    ),
)
timestamps = st.one_of(
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2110, 1, 1)).map(
        lambda t: t.strftime("%Y-%m-%d %H:%M:%S")
    ),
    st.datetimes(min_value=dt.datetime(2011, 1, 1), max_value=dt.datetime(2014, 12, 31)).map(
        lambda t: t.isoformat(sep=" ") + ".0000000"
    ),
    st.sampled_from(
        [
            "2013-01-01 00:00:00 BST",
            "2013-01-01T00:30:00+05:00",
            "2013",
            "-2013-01-01 00:00:00",
            "9999-12-31 23:59:59",
            "0001-01-01 00:00:00",
            " 2013-01-01 01:00:00 ",
            "2013-02-30 00:00:00",
            "",
        ]
    ),
    st.text(max_size=30),
)
amounts = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=0, max_value=20).map(lambda x: f" {x:.3f} "),
    st.sampled_from(
        ["0x1p3", "1d", "0.5f", "Null", "NaN", "-Infinity", "1e999", "-0.0", "+.5", "5.", "1_0", "\u0661", ""]
    ),
    st.text(max_size=10),
)


def no_line_break(text: str) -> str:
    return re.sub(r"[\r\n]", " ", text)


lines = st.one_of(
    st.tuples(ids, timestamps, amounts).map(lambda f: no_line_break(",".join(f))),
    st.lists(st.text(max_size=8), max_size=6).map(lambda f: no_line_break(",".join(f))),
    st.text(max_size=60).map(no_line_break),
)


@given(st.lists(lines, min_size=1, max_size=120), st.sampled_from([KAGGLE, DATASTORE_3COL]))
def test_every_line_gets_one_outcome_and_readings_are_in_the_grammar(spark, raw_lines, layout):
    frame = spark.createDataFrame(
        [(line, "file:/f.csv", i) for i, line in enumerate(raw_lines)], "raw_line STRING, source_file STRING, i INT"
    )
    parsed = (
        parse_reading_lines(frame, layout, MAX_KWH)
        # A rejected timestamp may be outside Python's years: only readings' timestamps come back.
        .select("reason", "household_id", "kwh", F.when(F.col("reason").isNull(), F.col("ts")).alias("ts"))
        .collect()
    )
    assert len(parsed) == len(raw_lines)  # one row per line: nothing dropped, nothing doubled
    for row in parsed:
        if row.reason is None:
            assert re.fullmatch(ID_GRAMMAR, row.household_id)
            assert 0.0 <= row.kwh <= MAX_KWH
            assert EARLIEST_DAY <= row.ts.date() <= LATEST_DAY


file_names = st.text(
    alphabet=st.characters(blacklist_characters="/\x00:", blacklist_categories=("Cs",)), min_size=1, max_size=12
)
line_endings = st.sampled_from([b"\n", b"\r\n", b"\r"])
raw_byte_lines = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b" ").replace(b"\n", b" "))


@st.composite
def lcl_files(draw):
    """A few files: a header, then text lines and raw (possibly non-UTF-8) byte lines, any line
    ending, with or without a final one, some gzipped, named with any character a file may hold."""
    files = {}
    for n in range(draw(st.integers(1, 3))):
        layout = draw(st.sampled_from([KAGGLE, DATASTORE_3COL]))
        body = draw(
            st.lists(st.one_of(lines.map(lambda s: s.encode("utf-8", "surrogatepass")), raw_byte_lines), max_size=40)
        )
        end = draw(line_endings)
        raw = end.join([HEADERS[layout], *body]) + (end if draw(st.booleans()) else b"")
        name = f"f{n}_{draw(file_names)}".replace("\\", "_") + ".csv"
        if draw(st.booleans()):
            files[name + ".gz"] = gzip.compress(raw)
        else:
            files[name] = raw
    return files


@pytest.fixture(scope="module")
def fuzz_warehouse(tmp_path_factory) -> str:
    """One warehouse for every example (each lands its own files, under their own folder): its
    tables are created once, not once per example."""
    return str(tmp_path_factory.mktemp("fuzz-warehouse") / "warehouse")


@given(lcl_files())
def test_lines_in_the_files_equal_bronze_plus_quarantine(spark, tmp_path_factory, fuzz_warehouse, files):
    folder = tmp_path_factory.mktemp("fuzz")
    inputs = folder / "in"
    inputs.mkdir()
    expected = {}
    for name, raw in files.items():
        (inputs / name).write_bytes(raw)
        expected[(inputs / name).resolve()] = data_lines(gzip.decompress(raw) if name.endswith(".gz") else raw)
    try:
        result = run_ingest(spark, fuzz_warehouse, [str(inputs)], None, MAX_KWH)
        counted = {}
        for table in ("bronze/readings", "bronze/quarantine"):
            for row in read_table(spark, fuzz_warehouse, table).groupBy("source_file").count().collect():
                path = file_of(row.source_file).resolve()
                if path.is_relative_to(inputs.resolve()):  # this example's files, not earlier ones'
                    counted[path] = counted.get(path, 0) + row["count"]
        assert {path: n for path, n in counted.items() if n} == {path: n for path, n in expected.items() if n}
        assert result.readings + result.quarantined == sum(expected.values())
        bad = read_table(spark, fuzz_warehouse, "bronze/readings").where(
            ~F.col("household_id").rlike(ID_GRAMMAR)
            | (F.col("kwh") < 0)
            | (F.col("kwh") > MAX_KWH)
            | (F.to_date("ts") < F.lit(EARLIEST_DAY))
            | (F.to_date("ts") > F.lit(LATEST_DAY))
        )
        assert bad.count() == 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)
