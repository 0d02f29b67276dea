"""Raw lines -> readings or quarantine reasons, on tiny inline data."""

import datetime as dt
import re

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from energy_anomaly.ingest.households import parse_household_lines, select_households
from energy_anomaly.ingest.layouts import DATASTORE, KAGGLE
from energy_anomaly.ingest.parse import (
    CANONICAL_TIMESTAMP,
    canonical_line,
    parse_reading_lines,
    parse_timestamp,
    select_quarantine,
    select_readings,
)

pytestmark = pytest.mark.spark

LINES_DDL = "raw_line STRING, source_file STRING"


def lines(spark, *raw):
    return spark.createDataFrame([(line, "file:/in.csv") for line in raw], LINES_DDL)


def test_kaggle_lines_parse_with_padding_suffixes_and_reasons(spark):
    parsed = parse_reading_lines(
        lines(
            spark,
            "LCLid,tstp,energy(kWh/hh)",
            "MAC000002,2013-01-01 00:00:00, 0.219 ",
            "MAC000002,2012-10-12 00:30:00.0000000, 0 ",
            "MAC000002,2012-12-19 12:37:27.0000000,Null",
            "MAC000002,2013-01-01 01:00:00,",
            "MAC000002,not a time,0.1",
            "MAC000002,2013-01-01 01:30:00,abc",
            "MAC000002,2013-01-01 02:00:00,NaN",
            "MAC000002,2013-01-01 02:30:00,-0.1",
            "MAC000002,2013-01-01 03:00:00,12.0",
            "MAC000002,2013-01-01 03:30:00,12.001",
            ",2013-01-01 04:00:00,0.1",
            "MAC000002,2013-01-01 04:30:00",
            "MAC000002,2013-01-01 05:00:00,0.1,extra",
            "   ",
            " lclid , TSTP ,energy(kWh/hh)",
            "MAC000002, 2013-01-01 05:30:00 ,0.3",
            "MAC000002,2013-01-01 06:00:00, null ",
            "MAC000002,2013-01-01 06:30:00,-Infinity",
        ),
        KAGGLE,
        max_kwh=12.0,
    )
    expected_readings = spark.createDataFrame(
        [
            ("MAC000002", dt.datetime(2013, 1, 1, 0, 0), 0.219, "file:/in.csv"),
            ("MAC000002", dt.datetime(2012, 10, 12, 0, 30), 0.0, "file:/in.csv"),
            ("MAC000002", dt.datetime(2013, 1, 1, 3, 0), 12.0, "file:/in.csv"),
            ("MAC000002", dt.datetime(2013, 1, 1, 5, 30), 0.3, "file:/in.csv"),
        ],
        "household_id STRING, ts TIMESTAMP, kwh DOUBLE, source_file STRING",
    )
    expected_quarantine = spark.createDataFrame(
        [
            ("MAC000002,2012-12-19 12:37:27.0000000,Null", "file:/in.csv", "missing_kwh", "MAC000002"),
            ("MAC000002,2013-01-01 01:00:00,", "file:/in.csv", "missing_kwh", "MAC000002"),
            ("MAC000002,not a time,0.1", "file:/in.csv", "bad_timestamp", "MAC000002"),
            ("MAC000002,2013-01-01 01:30:00,abc", "file:/in.csv", "bad_kwh", "MAC000002"),
            ("MAC000002,2013-01-01 02:00:00,NaN", "file:/in.csv", "missing_kwh", "MAC000002"),
            ("MAC000002,2013-01-01 02:30:00,-0.1", "file:/in.csv", "negative_kwh", "MAC000002"),
            ("MAC000002,2013-01-01 03:30:00,12.001", "file:/in.csv", "kwh_above_max", "MAC000002"),
            (",2013-01-01 04:00:00,0.1", "file:/in.csv", "missing_household_id", None),
            ("MAC000002,2013-01-01 04:30:00", "file:/in.csv", "wrong_field_count", "MAC000002"),
            ("MAC000002,2013-01-01 05:00:00,0.1,extra", "file:/in.csv", "wrong_field_count", "MAC000002"),
            ("   ", "file:/in.csv", "empty_line", None),
            ("MAC000002,2013-01-01 06:00:00, null ", "file:/in.csv", "missing_kwh", "MAC000002"),
            ("MAC000002,2013-01-01 06:30:00,-Infinity", "file:/in.csv", "bad_kwh", "MAC000002"),
        ],
        "raw_line STRING, source_file STRING, reason STRING, household_id STRING",
    )
    assertDataFrameEqual(select_readings(parsed), expected_readings)
    assertDataFrameEqual(select_quarantine(parsed), expected_quarantine)


def test_datastore_layout_takes_its_own_columns(spark):
    parsed = parse_reading_lines(
        lines(
            spark,
            "LCLid,stdorToU,DateTime,KWH/hh (per half hour) ,Acorn,Acorn_grouped",
            "MAC000003,Std,2012-10-12 00:30:00.0000000, 1.5 ,ACORN-A,Affluent",
            "MAC000003,Std,2012-10-12 01:00:00.0000000,Null,ACORN-A,Affluent",
        ),
        DATASTORE,
        max_kwh=12.0,
    )
    assertDataFrameEqual(
        select_readings(parsed),
        spark.createDataFrame(
            [("MAC000003", dt.datetime(2012, 10, 12, 0, 30), 1.5, "file:/in.csv")],
            "household_id STRING, ts TIMESTAMP, kwh DOUBLE, source_file STRING",
        ),
    )
    assert [r.reason for r in select_quarantine(parsed).collect()] == ["missing_kwh"]


def test_household_header_lines_are_neither_households_nor_rejects(spark):
    parsed = parse_household_lines(
        lines(
            spark,
            "LCLid,stdorToU,Acorn,Acorn_grouped,file",
            "MAC000002,Std,ACORN-A,Affluent,block_0",
            " lclid ,stdorToU,Acorn,Acorn_grouped,file",
            "MAC000003,ToU,ACORN-Q,Adversity,block_0",
        )
    )
    assert sorted(r.household_id for r in select_households(parsed).collect()) == ["MAC000002", "MAC000003"]
    assert select_quarantine(parsed).count() == 0


def test_strict_grammar_quarantines_lenient_casts_zones_and_implausible_dates(spark):
    """What Spark's casts would accept, silently and wrongly: Java literals as kWh, zone names and
    offsets (``BST`` is Bangladesh time to Java), a bare year, years 1 and 9999, invisible padding."""
    cases = {
        "MAC000002,2013-01-01 00:00:00,0x1p3": "bad_kwh",
        "MAC000002,2013-01-01 00:00:00,1d": "bad_kwh",
        "MAC000002,2013-01-01 00:00:00,0.5f": "bad_kwh",
        "MAC000002,2013-01-01 00:00:00,1e999": "bad_kwh",
        "MAC000002,2013-01-01 00:00:00 BST,0.1": "bad_timestamp",
        "MAC000002,2013-01-01 00:00:00+05:00,0.1": "bad_timestamp",
        "MAC000002,2013,0.1": "bad_timestamp",
        "MAC000002,-2013-01-01 00:00:00,0.1": "implausible_timestamp",
        "MAC000002,0001-01-01 00:00:00,0.1": "implausible_timestamp",
        "MAC000002,9999-12-31 23:30:00,0.1": "implausible_timestamp",
        "MAC00\u00e9002,2013-01-01 00:00:00,0.1": "bad_household_id",
        "MAC 0002,2013-01-01 00:00:00,0.1": "bad_household_id",
        "MAC\ufffd002,2013-01-01 00:00:00,0.1": "bad_encoding",
    }
    accepted = {
        "\tMAC000002\u00a0,2013-01-01 00:00:00,1e-1": ("MAC000002", 0.1),
        "\u200bMAC000002\ufeff,2013-01-01T00:30:00.5,+.25": ("MAC000002", 0.25),
    }
    parsed = parse_reading_lines(lines(spark, *cases, *accepted), KAGGLE, max_kwh=12.0)
    reasons = {r.raw_line: r.reason for r in select_quarantine(parsed).collect()}
    assert reasons == cases
    assert sorted((r.household_id, r.kwh) for r in select_readings(parsed).collect()) == sorted(accepted.values())


def test_a_canonical_timestamp_reads_the_same_by_cast_as_by_the_formats(spark):
    """Canonical lines take Spark's cast instead of ``TIMESTAMP_FORMATS``: over that grammar both
    give the same instant, and both refuse the same impossible dates and times."""
    texts = [
        "2013-01-01 00:00:00",
        "2013-01-01T23:30:00",
        "2012-10-12 00:30:00.0000000",
        "2013-06-30 12:00:00.5",
        "2013-06-30 12:00:00.123456",
        "2013-06-30 12:00:00.123456789",
        "2012-02-29 00:00:00",
        "2013-02-29 00:00:00",
        "2013-13-01 00:00:00",
        "2013-00-10 00:00:00",
        "2013-01-32 00:00:00",
        "2013-01-01 24:00:00",
        "2013-01-01 23:60:00",
        "2013-01-01 23:59:60",
        "0000-01-01 00:00:00",
        "9999-12-31 23:59:59.999999999",
        "1999-12-31 23:30:00",
        "2013-03-31 01:30:00",
    ]
    assert all(re.fullmatch(CANONICAL_TIMESTAMP, text) for text in texts)
    frame = spark.createDataFrame([(text,) for text in texts], "text STRING")
    # As microseconds: year 0 is a valid Spark timestamp but not a Python datetime.
    rows = frame.select(
        "text",
        F.unix_micros(parse_timestamp(F.col("text"))).alias("formats"),
        F.unix_micros(F.col("text").try_cast("timestamp")).alias("cast"),
    ).collect()
    assert {r.text: r.cast for r in rows} == {r.text: r.formats for r in rows}


def test_lines_off_the_fast_path_read_as_their_canonical_twins(spark):
    """Padding, a ``T`` separator and a signed or exponent reading leave the canonical path; the
    values are the same as those of the canonical line."""
    twins = {
        "MAC000002,2013-01-01 00:30:00,0.25": "\u00a0MAC000002 ,2013-01-01 00:30:00 ,0.25",
        "MAC000002,2013-01-01 01:00:00,0.5": "MAC000002, 2013-01-01 01:00:00,5e-1",
        "MAC000002,2013-01-01T01:30:00,1": "MAC000002,2013-01-01T01:30:00  ,+1.",
    }
    grammar = canonical_line(KAGGLE)
    assert all(re.search(grammar, line) for line in twins)
    assert not any(re.search(grammar, line) for line in twins.values())
    fast = select_readings(parse_reading_lines(lines(spark, *twins), KAGGLE, max_kwh=12.0))
    slow = select_readings(parse_reading_lines(lines(spark, *twins.values()), KAGGLE, max_kwh=12.0))
    assertDataFrameEqual(fast, slow)
