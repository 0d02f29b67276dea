"""Every table boundary's schema, in one place.

Raw CSV is never read with an inferred schema: raw lines are read as text and parsed by the
layouts in ``energy_anomaly.ingest.layouts``. Writers check against these before writing.
"""
from pyspark.sql import types as T

from energy_anomaly.features.core import FEATURE_COLUMNS

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

# The core's numeric columns, named once (features.core is pandas-only: no Spark import cycle).
_FEATURE_DOUBLES = ("daily_kwh", *FEATURE_COLUMNS)

# What the per-household pandas core returns (features.core.household_features).
HOUSEHOLD_FEATURES = T.StructType(
    [
        T.StructField("household_id", T.StringType(), False),
        T.StructField("day", T.DateType(), False),
        T.StructField("is_complete", T.BooleanType(), False),
        *[T.StructField(name, T.DoubleType(), True) for name in _FEATURE_DOUBLES],
        T.StructField("profile", T.ArrayType(T.DoubleType(), True), False),
    ]
)

GOLD_FEATURES = T.StructType(
    HOUSEHOLD_FEATURES.fields
    + [
        T.StructField("day_of_week", T.IntegerType(), False),
        T.StructField("is_weekend", T.BooleanType(), False),
        T.StructField("is_holiday", T.BooleanType(), False),
        T.StructField("season", T.StringType(), False),
    ]
)

# gold/anomaly_scores: the contract's columns, plus ``month`` (the partition column, for BI by time).
GOLD_SCORES = T.StructType(
    [
        T.StructField("household_id", T.StringType(), False),
        T.StructField("day", T.DateType(), False),
        T.StructField("model", T.StringType(), False),
        T.StructField("score", T.DoubleType(), True),
        T.StructField("threshold", T.DoubleType(), False),
        T.StructField("is_anomaly", T.BooleanType(), True),
        T.StructField("model_version", T.StringType(), False),
        T.StructField("month", T.DateType(), False),
    ]
)

GOLD_ANOMALIES = T.StructType(
    [
        T.StructField("household_id", T.StringType(), False),
        T.StructField("day", T.DateType(), False),
        T.StructField("model", T.StringType(), False),
        T.StructField("score", T.DoubleType(), True),
        T.StructField("threshold", T.DoubleType(), False),
        T.StructField("actual_kwh", T.DoubleType(), True),
        T.StructField("expected_kwh", T.DoubleType(), True),
        T.StructField("deviation_kwh", T.DoubleType(), True),
        T.StructField("top_deviating_times", T.ArrayType(T.StringType()), True),
        T.StructField("top_deviation_kwh", T.ArrayType(T.DoubleType()), True),
        T.StructField("score_isolation_forest", T.DoubleType(), True),
        T.StructField("score_conv1d_autoencoder", T.DoubleType(), True),
        T.StructField("score_lstm_forecaster", T.DoubleType(), True),
        T.StructField("tariff", T.StringType(), True),
        T.StructField("acorn_group", T.StringType(), True),
        T.StructField("model_version", T.StringType(), False),
        T.StructField("month", T.DateType(), False),
    ]
)

# Labels written by ``inject``: one row per labelled household-day, parameters as JSON.
LABELS = T.StructType(
    [
        T.StructField("household_id", T.StringType(), False),
        T.StructField("day", T.DateType(), False),
        T.StructField("anomaly_type", T.StringType(), False),
        T.StructField("params", T.StringType(), True),
        T.StructField("seed", T.LongType(), False),
    ]
)

# One row per evaluation run, model, slice and metric (CONTRACT.md); the run's context alongside.
GOLD_METRICS = T.StructType(
    [
        T.StructField("run_id", T.StringType(), False),
        T.StructField("model", T.StringType(), False),
        T.StructField("slice", T.StringType(), False),
        T.StructField("metric", T.StringType(), False),
        T.StructField("value", T.DoubleType(), False),
        T.StructField("model_version", T.StringType(), False),
        T.StructField("period_start", T.DateType(), False),
        T.StructField("period_end", T.DateType(), False),
        T.StructField("evaluated_at", T.TimestampType(), False),
    ]
)
