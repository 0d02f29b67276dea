# Databricks notebook source
# MAGIC %md
# MAGIC # Train the detectors and score a period
# MAGIC Features, the stratified training sample, the three detectors and the ensemble, then
# MAGIC scoring every household-day of a period: the `features`, `train` and `score` stages.

# COMMAND ----------

try:
    spark, dbutils  # noqa: B018 - on Databricks both exist
except NameError:
    from energy_anomaly.notebook import notebook_context

    spark, dbutils = notebook_context()

dbutils.widgets.text("warehouse", "warehouse", "Delta warehouse")
dbutils.widgets.text("bank_holidays", "data/lcl_sample/uk_bank_holidays.csv", "UK bank holidays CSV")
dbutils.widgets.text("train_start", "2013-01-01", "Training from")
dbutils.widgets.text("train_end", "2013-08-31", "Training to")
dbutils.widgets.text("score_start", "2013-09-01", "Scoring from")
dbutils.widgets.text("score_end", "2013-12-31", "Scoring to")
dbutils.widgets.text("per_stratum", "2000", "Days per stratum")
dbutils.widgets.text("epochs", "30", "Keras epochs (at most)")
w = {
    name: dbutils.widgets.get(name)
    for name in (
        "warehouse",
        "bank_holidays",
        "train_start",
        "train_end",
        "score_start",
        "score_end",
        "per_stratum",
        "epochs",
    )
}

# COMMAND ----------

import datetime as dt  # noqa: E402

from energy_anomaly.config import resolve_path  # noqa: E402
from energy_anomaly.features.stage import run_features  # noqa: E402

print("gold/features rows:", run_features(spark, w["warehouse"], resolve_path(w["bank_holidays"])))

# COMMAND ----------

from energy_anomaly.training.stage import run_train  # noqa: E402

trained = run_train(
    spark,
    w["warehouse"],
    start=dt.date.fromisoformat(w["train_start"]),
    end=dt.date.fromisoformat(w["train_end"]),
    per_stratum=int(w["per_stratum"]),
    seed=42,
    threshold_quantile=0.99,
    epochs=int(w["epochs"]),
)
print(trained.version, {k: trained.metadata[k] for k in ("sample_days", "fit_days", "calibration_days", "households")})
print(trained.metadata["final_losses"])

# COMMAND ----------

from energy_anomaly.scoring.stage import run_score  # noqa: E402

scored = run_score(
    spark,
    w["warehouse"],
    trained.path,
    start=dt.date.fromisoformat(w["score_start"]),
    end=dt.date.fromisoformat(w["score_end"]),
)
print(f"{scored.days} household-days scored, {scored.anomalies} flagged by the ensemble")

# COMMAND ----------

from pyspark.sql import functions as F  # noqa: E402

from energy_anomaly.tables import read_table  # noqa: E402

scores = read_table(spark, w["warehouse"], "gold/anomaly_scores")
scores.groupBy("model").agg(
    F.count("*").alias("days"),
    F.avg(F.col("is_anomaly").cast("double")).alias("flagged_share"),
    F.expr("percentile_approx(score, 0.5)").alias("median_score"),
).orderBy("model").show()
