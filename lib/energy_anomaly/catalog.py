"""The catalogue: every table's name, schema, layout and meaning, and the names the stages share
(the half-hourly grid, the feature columns, the models).

Stages import this module for names, never each other. It imports nothing but Spark's type
definitions: no pandas, no session, no stage. Raw CSV is never read with an inferred schema (the
layouts are in ``energy_anomaly.ingest.layouts``); writers check frames against these schemas.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pyspark.sql import types as T

# --- the grid --------------------------------------------------------------------------------
SLOTS_PER_DAY = 48
SLOT_MINUTES = 30

# --- the models ------------------------------------------------------------------------------
MODELS = ("isolation_forest", "conv1d_autoencoder", "lstm_forecaster")
ENSEMBLE = "ensemble"
SCORED_MODELS = (*MODELS, ENSEMBLE)

# --- the features (energy_anomaly.features.core computes them) -------------------------------
# Statistics also compared with the household's own history, as z_<name>. New ones go at the
# end: a forest from before shift_gain_28 reads the first eleven (models.inputs).
RELATIVE_STATS = (
    "log_total",
    "log_peak",
    "log_base",
    "cv",
    "roughness",
    "night_share",
    "max_over_mean",
    "zero_share",
    "max_repeat_share",
    "profile_corr_28",
    "profile_dist_28",
    "log_scale",
    "shift_gain_28",
    "quiet_gap_28",
)
RELATIVE_FEATURES = tuple(f"z_{name}" for name in RELATIVE_STATS)
# Scale statistics also against the previous 91 days alone (features.core: a slow change).
LONG_MEMORY_FEATURES = ("z91_log_base", "z91_log_scale")
FEATURE_COLUMNS = (
    "baseline_7",
    "baseline_28",
    "dev_7",
    "dev_28",
    "level",
    "profile_dist_28",
    "profile_corr_28",
    "shift_gain_28",
    "quiet_gap_28",
    "night_share",
    "cv",
    "max_over_mean",
    "min_over_level",
    "zero_share",
    "max_repeat_share",
    "log_total",
    "log_peak",
    "log_base",
    "roughness",
    "log_scale",
    *RELATIVE_FEATURES,
    *LONG_MEMORY_FEATURES,
)
_FEATURE_DOUBLES = ("daily_kwh", *FEATURE_COLUMNS)
# The gold/features statistics the isolation forest reads (besides them the detectors read
# ``level`` and ``profile``).
DETECTOR_FEATURES = (*RELATIVE_FEATURES, *LONG_MEMORY_FEATURES, "shift_gain_28")
# The day's context the forest divides out of them (models.context).
CONTEXT_COLUMNS = ("temperature_delta", "is_weekend", "is_holiday")


@dataclass(frozen=True)
class Table:
    """A Delta table at ``<warehouse>/<name>``: its schema, layout and what a row is."""

    name: str  # layer/name, e.g. bronze/readings
    schema: T.StructType
    description: str
    partition_by: tuple[str, ...] = ()
    # Columns Delta keeps min/max statistics on, for file skipping; None: whichever of
    # DEFAULT_STATS_COLUMNS the table has. Only the keys queries filter on are worth the write.
    stats_columns: tuple[str, ...] | None = None
    # Delta's Change Data Feed: the rows each commit inserted and deleted, readable by version.
    change_data_feed: bool = False
    # What ``maintain`` clusters the files of each partition by (OPTIMIZE ZORDER BY); () compacts.
    cluster_by: tuple[str, ...] = ()
    # A table of a few thousand rows per write: each write is one file (else one per task, e.g.
    # 37 files for 71 flagged days), and it has no partitions of a few rows each.
    one_file_per_write: bool = False
    # Delta CHECK constraints (name, SQL expression over the row): rules that hold for every row
    # whatever the input, so a write that breaks one is a bug, refused by Delta, not a bad row.
    checks: tuple[tuple[str, str], ...] = ()
    # Column comments of this table where a name means something else here than in
    # COLUMN_COMMENTS (``reason`` of a quarantined line vs of a flagged day).
    comments: tuple[tuple[str, str], ...] = ()

    def comment(self, column: str) -> str | None:
        return dict(self.comments).get(column, COLUMN_COMMENTS.get(column))


DEFAULT_STATS_COLUMNS = ("household_id", "ts", "day", "model", "run_id")

# Column comments, stored in each table's schema (DESCRIBE, Unity Catalog and BI tools show them).
COLUMN_COMMENTS = {
    "household_id": "LCLid of the household (smart meter)",
    "ts": "start of the half-hour, UTC (LCL times are GMT all year)",
    "day": "date of the half-hours (UTC)",
    "month": "first day of day's month",
    "kwh": "energy in the half-hour, kWh",
    "source_file": "URI of the raw file the row came from",
    "raw_line": "the raw line as read",
    "reason": "the first rule the line failed",
    "slot": "half-hour of the day, 0 (00:00) to 47 (23:30)",
    "is_imputed": "the value was interpolated over a short gap",
    "is_gap": "the half-hour lies in a gap too long to interpolate (kwh null)",
    "completeness": "share of the day's 48 half-hours observed or imputed",
    "is_complete": "complete enough to be scored",
    "daily_kwh": "the day's total kWh",
    "profile": "48 half-hourly values over the household's typical half-hour",
    "temperature": "London's mean of the day's high and low, deg C (null: no weather for the day)",
    "temperature_delta": "temperature minus its mean over the previous 28 days, deg C (a cold snap < 0)",
    "model": "isolation_forest, conv1d_autoencoder, lstm_forecaster or ensemble",
    "score": "higher is more anomalous; comparable across households for one model",
    "threshold": "the model's operating threshold",
    "is_anomaly": "score > threshold",
    "model_version": "the trained bundle that scored (hash of its metadata)",
    "actual_kwh": "the day's kWh",
    "expected_kwh": "the day's kWh the LSTM forecast from the week before",
    "deviation_kwh": "actual_kwh - expected_kwh (negative: less than expected)",
    "tariff": "Std or ToU (dynamic time-of-use)",
    "acorn_group": "ACORN group (Affluent, Comfortable, Adversity, ...)",
    "run_id": "evaluation run: model version, period and labels",
    "slice": "overall, or column=value (anomaly_type=h1, acorn_group=Affluent, ...)",
    "scores_version": "the gold/anomaly_scores Delta version the scoring run wrote",
    "psi": "population stability index of the run's scores against training",
    "moved_share": "share of households whose level moved beyond the season",
    "flagged_rate": "share of the run's household-days flagged",
    "drift": "psi > 0.2, flagged rate > 3x training, or moved share > 10 % (null: under 100 days)",
}

_BRONZE_READINGS = T.StructType(
    [
        T.StructField("household_id", T.StringType(), False),
        T.StructField("ts", T.TimestampType(), False),
        T.StructField("kwh", T.DoubleType(), False),
        T.StructField("source_file", T.StringType(), False),
    ]
)

_BRONZE_QUARANTINE = T.StructType(
    [
        T.StructField("raw_line", T.StringType(), True),
        T.StructField("source_file", T.StringType(), False),
        T.StructField("reason", T.StringType(), False),
        T.StructField("household_id", T.StringType(), True),
    ]
)

_SILVER_HOUSEHOLDS = T.StructType(
    [
        T.StructField("household_id", T.StringType(), False),
        T.StructField("tariff", T.StringType(), True),
        T.StructField("acorn", T.StringType(), True),
        T.StructField("acorn_group", T.StringType(), True),
        T.StructField("block", T.StringType(), True),
    ]
)

_SILVER_READINGS = T.StructType(
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
        T.StructField("month", T.DateType(), False),
    ]
)

_SILVER_DAILY = T.StructType(
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
        T.StructField("month", T.DateType(), False),
    ]
)

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

_GOLD_FEATURES = T.StructType(
    HOUSEHOLD_FEATURES.fields
    + [
        T.StructField("day_of_week", T.IntegerType(), False),
        T.StructField("is_weekend", T.BooleanType(), False),
        T.StructField("is_holiday", T.BooleanType(), False),
        T.StructField("temperature", T.DoubleType(), True),
        T.StructField("temperature_delta", T.DoubleType(), True),
        T.StructField("season", T.StringType(), False),
        T.StructField("month", T.DateType(), False),
    ]
)

_GOLD_SCORES = T.StructType(
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

_GOLD_ANOMALIES = T.StructType(
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
        # Last: a table written before it gets it by ADD COLUMNS, which appends.
        T.StructField("reason", T.StringType(), True),
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

_GOLD_METRICS = T.StructType(
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

# One row per scoring run (a gold/anomaly_scores commit), model and slice: see monitoring.core.
_GOLD_MONITORING = T.StructType(
    [
        T.StructField("scores_version", T.LongType(), False),
        T.StructField("model_version", T.StringType(), False),
        T.StructField("period_start", T.DateType(), False),
        T.StructField("period_end", T.DateType(), False),
        T.StructField("model", T.StringType(), False),
        T.StructField("slice", T.StringType(), False),
        T.StructField("days", T.LongType(), False),
        T.StructField("psi", T.DoubleType(), True),
        T.StructField("moved_share", T.DoubleType(), True),
        T.StructField("flagged_rate", T.DoubleType(), True),
        T.StructField("training_flagged_rate", T.DoubleType(), False),
        T.StructField("completeness", T.DoubleType(), True),
        T.StructField("drift", T.BooleanType(), True),
        T.StructField("scored_at", T.TimestampType(), False),
    ]
)

# Per model version and household: its level over the model's training period (monitoring.stage).
_GOLD_BASELINES = T.StructType(
    [
        T.StructField("model_version", T.StringType(), False),
        T.StructField("household_id", T.StringType(), False),
        T.StructField("base", T.DoubleType(), True),
        T.StructField("spread", T.DoubleType(), True),
        T.StructField("days", T.LongType(), False),
    ]
)


# --- the tables --------------------------------------------------------------------------------
BRONZE_READINGS = Table(
    "bronze/readings",
    _BRONZE_READINGS,
    "One row per accepted raw reading, with the URI of the file it came from. Each ingest adds the "
    "rows of its files as new files, so a day's drop lands in files spanning that day: statistics "
    "on ts let a read of recent days skip the history, and statistics on source_file let an "
    "ingest find the rows of its files (to replace them) without reading the others. Its Change "
    "Data Feed tells update which household-days an ingest touched.",
    stats_columns=("household_id", "ts", "source_file"),
    change_data_feed=True,
    checks=(("kwh_not_negative", "kwh >= 0"),),
)


def bronze_readings(max_kwh_per_halfhour: float) -> Table:
    """bronze/readings with the ingest's upper bound as a CHECK constraint too: the bound is the
    config's, so a writer that skipped the ingest's parse (or a bound lowered after the fact)
    cannot put a reading above it into the table."""
    bound = float(max_kwh_per_halfhour)
    if not 0 < bound < float("inf"):
        raise ValueError(f"not an ingest bound: {max_kwh_per_halfhour!r}")
    return replace(BRONZE_READINGS, checks=(*BRONZE_READINGS.checks, ("kwh_within_ingest_bound", f"kwh <= {bound!r}")))


BRONZE_QUARANTINE = Table(
    "bronze/quarantine",
    _BRONZE_QUARANTINE,
    "One row per rejected raw line: its text, its file and the first failing reason.",
)
SILVER_HOUSEHOLDS = Table(
    "silver/households", _SILVER_HOUSEHOLDS, "One row per household: tariff, ACORN category and group, block file."
)
# Silver and gold are partitioned by month and sorted by household within each file: a day's
# update writes new files into its month (the files before it end earlier, so statistics on
# ts or day skip them) and a household's history is one file per month.
SILVER_READINGS = Table(
    "silver/readings",
    _SILVER_READINGS,
    "The regular half-hourly grid per household: observed, imputed (short gaps) or missing (long gaps).",
    partition_by=("month",),
    cluster_by=("household_id",),
    stats_columns=("household_id", "ts", "day"),
    checks=(("kwh_not_negative", "kwh IS NULL OR kwh >= 0"), ("slot_of_the_day", "slot BETWEEN 0 AND 47")),
)
SILVER_DAILY = Table(
    "silver/daily",
    _SILVER_DAILY,
    "One row per household-day: the 48 half-hourly values and completeness.",
    partition_by=("month",),
    cluster_by=("household_id",),
    checks=(
        ("completeness_is_a_share", "completeness BETWEEN 0 AND 1"),
        ("slots_add_up_to_48", "n_observed + n_imputed + n_missing = 48"),
    ),
)
GOLD_FEATURES = Table(
    "gold/features",
    _GOLD_FEATURES,
    "One row per household-day: the features the detectors use.",
    partition_by=("month",),
    cluster_by=("household_id",),
)
GOLD_SCORES = Table(
    "gold/anomaly_scores",
    _GOLD_SCORES,
    "One row per scored household-day and model: score, threshold, flag and the model version. "
    "Its Change Data Feed gives a downstream reader the rows each scoring run replaced.",
    partition_by=("month",),
    cluster_by=("household_id",),
    change_data_feed=True,
)
GOLD_ANOMALIES = Table(
    "gold/anomalies",
    _GOLD_ANOMALIES,
    "The flagged household-days, with expected and actual kWh and the most deviating half-hours. "
    "Its Change Data Feed is the stream of new and withdrawn flags (an alerting or case system "
    "reads the changes since the version it last saw).",
    cluster_by=("day",),
    one_file_per_write=True,
    change_data_feed=True,
    comments=(
        (
            "reason",
            "why the day stands out, from its features: zero_interval, stuck, low_level, high_level, "
            "under_reading, spike, flat, time_shift, load_shift, quiet_hours or shape",
        ),
    ),
)
GOLD_METRICS = Table(
    "gold/metrics", _GOLD_METRICS, "One row per evaluation run, model, slice and metric.", one_file_per_write=True
)
GOLD_MONITORING = Table(
    "gold/monitoring",
    _GOLD_MONITORING,
    "One row per scoring run, model and slice: PSI against training, flagged rate, completeness, drift.",
    stats_columns=("scores_version", "model"),
    one_file_per_write=True,
    checks=(
        ("completeness_is_a_share", "completeness IS NULL OR completeness BETWEEN 0 AND 1"),
        ("flagged_rate_is_a_share", "flagged_rate IS NULL OR flagged_rate BETWEEN 0 AND 1"),
        ("moved_share_is_a_share", "moved_share IS NULL OR moved_share BETWEEN 0 AND 1"),
    ),
)
GOLD_BASELINES = Table(
    "gold/monitoring_baselines",
    _GOLD_BASELINES,
    "Per model version and household: median and interquartile range of log daily kWh over the "
    "model's training period, what monitoring compares a scoring run's level with.",
    stats_columns=("model_version", "household_id"),
    one_file_per_write=True,
)

TABLES = (
    BRONZE_READINGS,
    BRONZE_QUARANTINE,
    SILVER_HOUSEHOLDS,
    SILVER_READINGS,
    SILVER_DAILY,
    GOLD_FEATURES,
    GOLD_SCORES,
    GOLD_ANOMALIES,
    GOLD_METRICS,
    GOLD_MONITORING,
    GOLD_BASELINES,
)
# Folders under the warehouse that are not Delta tables.
MODELS_FOLDER = "models"
MLFLOW_FOLDER = "mlflow"
REPORTS_FOLDER = "reports"


def table(name: str) -> Table:
    """The catalogue's table called ``name`` (``layer/name``)."""
    for entry in TABLES:
        if entry.name == name:
            return entry
    raise KeyError(f"no table {name!r} in the catalogue; known: {', '.join(t.name for t in TABLES)}")
