"""Every table boundary's schema, in one place.

Raw CSV is never read with an inferred schema: raw lines are read as text and parsed by the
layouts in ``energy_anomaly.ingest.layouts``. Writers check against these before writing.
"""
from pyspark.sql import types as T

SLOTS_PER_DAY = 48

BRONZE_READINGS = T.StructType(
    [
        T.StructField("household_id", T.StringType(), False),
        T.StructField("ts", T.TimestampType(), False),
        T.StructField("kwh", T.DoubleType(), False),
        T.StructField("source_file", T.StringType(), False),
    ]
)

BRONZE_QUARANTINE = T.StructType(
    [
        T.StructField("raw_line", T.StringType(), True),
        T.StructField("source_file", T.StringType(), False),
        T.StructField("reason", T.StringType(), False),
        T.StructField("household_id", T.StringType(), True),
    ]
)

SILVER_HOUSEHOLDS = T.StructType(
    [
        T.StructField("household_id", T.StringType(), False),
        T.StructField("tariff", T.StringType(), True),
        T.StructField("acorn", T.StringType(), True),
        T.StructField("acorn_group", T.StringType(), True),
        T.StructField("block", T.StringType(), True),
    ]
)

SILVER_READINGS = T.StructType(
    [
        T.StructField("household_id", T.StringType(), False),
        T.StructField("ts", T.TimestampType(), False),
        T.StructField("day", T.DateType(), False),
        T.StructField("slot", T.IntegerType(), False),
        T.StructField("kwh", T.DoubleType(), True),
        T.StructField("is_imputed", T.BooleanType(), False),
        T.StructField("is_gap", T.BooleanType(), False),
        T.StructField("n_source_rows", T.IntegerType(), False),
        T.StructField("has_conflict", T.BooleanType(), False),
    ]
)

SILVER_DAILY = T.StructType(
    [
        T.StructField("household_id", T.StringType(), False),
        T.StructField("day", T.DateType(), False),
        T.StructField("kwh", T.ArrayType(T.DoubleType(), True), False),
        T.StructField("n_observed", T.IntegerType(), False),
        T.StructField("n_imputed", T.IntegerType(), False),
        T.StructField("n_missing", T.IntegerType(), False),
        T.StructField("completeness", T.DoubleType(), False),
        T.StructField("is_complete", T.BooleanType(), False),
        T.StructField("daily_kwh", T.DoubleType(), True),
    ]
)
