"""Raw text lines -> typed readings, or a quarantine reason. Pure ``DataFrame -> DataFrame``.

Input frames have ``raw_line`` (the line as read) and ``source_file``. A line is a reading only if
every check passes; otherwise it gets the first failing reason, in this order:

| reason              | the line ...                                                     |
| ------------------- | ---------------------------------------------------------------- |
| ``empty_line``      | is blank                                                          |
| ``bad_encoding``    | had bytes that are not UTF-8 (decoded as U+FFFD)                  |
| ``wrong_field_count`` | does not have as many comma-separated fields as its header     |
| ``missing_household_id`` | has an empty LCLid                                          |
| ``bad_household_id`` | has an LCLid outside ``ID_GRAMMAR`` (after trimming ``ID_PADDING``) |
| ``bad_timestamp``   | has a timestamp outside ``TIMESTAMP_FORMATS`` (no zone, no offset)  |
| ``implausible_timestamp`` | has a timestamp before ``EARLIEST_DAY`` or after ``LATEST_DAY`` |
| ``missing_kwh``     | has an empty or ``Null`` reading                                  |
| ``bad_kwh``         | has a reading outside ``KWH_GRAMMAR`` or too large for a double   |
| ``negative_kwh``    | has a reading below zero                                          |
| ``kwh_above_max``   | has more kWh in half an hour than a domestic supply can deliver   |

The grammars are strict on purpose: Spark's casts accept Java literals (``0x1p3``, ``1d``),
time-zone names (``BST`` read as Bangladesh time), offsets and a bare year, each of which would
put a wrong reading in bronze without a trace.

A header line (one per file, more in concatenated files) has ``reason`` ``header_line``: it is
neither a reading nor a reject, and ``select_readings``/``select_quarantine`` both leave it out.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from energy_anomaly.ingest.layouts import HEADER_ID_FIELD, Layout

NULL_TOKENS = ("null", "na", "nan", "")
# A half-hour's reading: plain decimal notation, optional exponent, padding allowed; nothing else.
KWH_GRAMMAR = r"^\s*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?\s*$"
# Local (GMT) wall-clock timestamps as LCL writes them, with up to nine fraction digits.
TIMESTAMP_FORMATS = ("yyyy-MM-dd HH:mm:ss[.SSSSSSSSS]", "yyyy-MM-dd'T'HH:mm:ss[.SSSSSSSSS]")
# Smart-meter data outside these days is a corrupt timestamp, not a reading (and a year 1 or 9999
# reading would stretch a household's half-hourly grid over millennia).
EARLIEST_DAY, LATEST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
# Meter ids: letters, digits and ``_.-``, at most 64; padding that editors and exports leave
# (tabs, no-break and zero-width spaces, a byte-order mark) is trimmed first.
ID_GRAMMAR = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ID_PADDING = " \t\r\u00a0\u2007\u202f\u200b\u200c\u200d\u2060\ufeff"
REPLACEMENT_CHARACTER = "\ufffd"
# A timestamp in one of ``TIMESTAMP_FORMATS`` with no padding: Spark's own cast reads exactly these
# as the formats do (a zone, an offset or a bare year is outside this grammar).
CANONICAL_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?"
# ``reason`` of a header line: not a reading, not a reject, not counted as a data line.
HEADER_LINE = "header_line"


def raw_field(index: int) -> Column:
    """The field as it stands in the line, padding included."""
    return F.get(F.col("fields"), index)


def field(index: int) -> Column:
    return F.trim(raw_field(index))


def with_fields(lines_df: DataFrame) -> DataFrame:
    return lines_df.withColumn("fields", F.split(F.col("raw_line"), ",", -1))


def household_id_field(index: int) -> Column:
    return F.btrim(raw_field(index), F.lit(ID_PADDING))


def parse_timestamp(text: Column) -> Column:
    """The first of ``TIMESTAMP_FORMATS`` that reads the whole (trimmed) text, else null."""
    trimmed = F.trim(text)
    return F.coalesce(*[F.try_to_timestamp(trimmed, F.lit(pattern)) for pattern in TIMESTAMP_FORMATS])


def parse_kwh(text: Column) -> Column:
    """The reading as a double where the text is in ``KWH_GRAMMAR``, else null (the cast skips padding)."""
    return F.when(text.rlike(KWH_GRAMMAR), text.try_cast("double"))


def canonical_line(layout: Layout) -> str:
    """The grammar of a line whose fields need no trimming and no per-field check: an LCLid in
    ``ID_GRAMMAR``, a ``CANONICAL_TIMESTAMP``, a reading in ``KWH_GRAMMAR``, as many fields as the
    header. Nearly every real line is one; the rest take the per-field path."""
    grammars = {
        layout.household_col: ID_GRAMMAR.removeprefix("^").removesuffix("$"),
        layout.ts_col: CANONICAL_TIMESTAMP,
        layout.kwh_col: KWH_GRAMMAR.removeprefix("^").removesuffix("$"),
    }
    return "^" + ",".join(grammars.get(index, "[^,]*") for index in range(layout.width)) + "$"


def with_reading_columns(fields_df: DataFrame, layout: Layout) -> DataFrame:
    """Typed ``household_id``, ``ts``, ``kwh`` (null where outside their grammar), the raw kWh text
    and ``canonical`` (the line is in ``canonical_line``).

    A canonical line's fields are read by plain casts: one regular expression over the line costs
    less than trimming the LCLid, matching it and the reading to their grammars and parsing the
    timestamp with Java's pattern formatter, the costliest of them. Both paths give the same
    values (``tests/ingest/test_parse.py``).
    """
    kwh_text = raw_field(layout.kwh_col)
    ts_text = raw_field(layout.ts_col)
    canonical = F.col("canonical")
    household_id = raw_field(layout.household_col)
    return (
        fields_df.withColumn("canonical", F.col("raw_line").rlike(canonical_line(layout)))
        .withColumn("household_id", F.when(canonical, household_id).otherwise(household_id_field(layout.household_col)))
        .withColumn("ts", F.when(canonical, ts_text.try_cast("timestamp")).otherwise(parse_timestamp(ts_text)))
        .withColumn("kwh_text", kwh_text)
        .withColumn("kwh", F.when(canonical, kwh_text.try_cast("double")).otherwise(parse_kwh(kwh_text)))
    )


def reject_reason(width: int, max_kwh: float, earliest: dt.date = EARLIEST_DAY, latest: dt.date = LATEST_DAY) -> Column:
    """The first failing check's name, or null for a good reading."""
    has_wrong_width = F.size("fields") != width
    # Every layout has more than one field, so a blank line has the wrong width: the trim of the
    # raw line runs only for lines that fail the width test, not for every reading.
    is_blank = has_wrong_width & (F.trim(F.col("raw_line")) == "")
    is_missing_id = F.col("household_id").isNull() | (F.col("household_id") == "")
    is_bad_id = ~F.col("canonical") & ~F.col("household_id").rlike(ID_GRAMMAR)
    day = F.to_date("ts")
    is_implausible = (day < F.lit(earliest)) | (day > F.lit(latest))
    not_a_number = F.col("kwh").isNull() | F.isnan("kwh")
    # The token test runs only for a kWh that did not parse: no lower-casing of every reading.
    is_missing_kwh = not_a_number & F.lower(F.trim(F.col("kwh_text"))).isin(*NULL_TOKENS)
    is_bad_kwh = not_a_number | (F.abs("kwh") == float("inf"))
    return (
        F.when(is_blank, "empty_line")
        .when(F.col("raw_line").contains(REPLACEMENT_CHARACTER), "bad_encoding")
        .when(has_wrong_width, "wrong_field_count")
        .when(is_missing_id, "missing_household_id")
        .when(is_bad_id, "bad_household_id")
        .when(F.col("ts").isNull(), "bad_timestamp")
        .when(is_implausible, "implausible_timestamp")
        .when(is_missing_kwh, "missing_kwh")
        .when(is_bad_kwh, "bad_kwh")
        .when(F.col("kwh") < 0, "negative_kwh")
        .when(F.col("kwh") > max_kwh, "kwh_above_max")
    )


def is_header() -> Column:
    """A header line (first field ``LCLid``): one per file, or more in concatenated files. Tested on
    the already trimmed ``household_id`` field, not on a second scan of the raw line."""
    household_id = F.col("household_id")
    # Lower-cases only the 5-byte ids: an LCLid (MAC000002) is never that short.
    return (F.octet_length(household_id) == len(HEADER_ID_FIELD)) & (F.lower(household_id) == HEADER_ID_FIELD)


def with_reject_reason(
    readings_df: DataFrame,
    layout: Layout,
    max_kwh: float,
    earliest: dt.date = EARLIEST_DAY,
    latest: dt.date = LATEST_DAY,
) -> DataFrame:
    """Adds ``reason``: null for a reading, the first failing check's name for a reject, and
    ``HEADER_LINE`` for a header line, which is neither (``is_data_line``)."""
    reason = F.when(is_header(), HEADER_LINE).otherwise(reject_reason(layout.width, max_kwh, earliest, latest))
    return readings_df.withColumn("reason", reason)


def parse_reading_lines(
    lines_df: DataFrame, layout: Layout, max_kwh: float, earliest: dt.date = EARLIEST_DAY, latest: dt.date = LATEST_DAY
) -> DataFrame:
    """Lines of one readings layout -> every line with its typed columns and ``reason``.

    Filter the result on ``reason`` only above a barrier the optimizer cannot push the filter
    through (ingest observes the parsed lines: ``stage.parse_sources``). A filter straight above
    these projections is pushed below them, inlining ``split`` and every cast once per reference
    to ``reason``. The results are the same either way.
    """
    return (
        lines_df.transform(with_fields)
        .transform(with_reading_columns, layout)
        .transform(with_reject_reason, layout, max_kwh, earliest, latest)
        .select("raw_line", "source_file", "household_id", "ts", "kwh", "reason")
    )


def is_data_line() -> Column:
    """A reading or a reject: every line but a header."""
    return ~F.col("reason").eqNullSafe(HEADER_LINE)


def is_rejected() -> Column:
    return F.col("reason").isNotNull() & (F.col("reason") != HEADER_LINE)


def select_readings(parsed_df: DataFrame) -> DataFrame:
    return parsed_df.where(F.col("reason").isNull()).select("household_id", "ts", "kwh", "source_file")


def quarantine_columns() -> list[Column]:
    """A parsed line as a ``bronze/quarantine`` row (an empty LCLid is null)."""
    household_id = F.when(F.col("household_id") != "", F.col("household_id"))
    return [F.col("raw_line"), F.col("source_file"), F.col("reason"), household_id.alias("household_id")]


def select_quarantine(parsed_df: DataFrame) -> DataFrame:
    return parsed_df.where(is_rejected()).select(*quarantine_columns())
