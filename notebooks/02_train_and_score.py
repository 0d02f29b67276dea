# Databricks notebook source
# MAGIC %md
# MAGIC # Train the detectors and score a period
# MAGIC Features, the stratified training sample, the three detectors and the ensemble, then
# MAGIC scoring every household-day of a period: the `features`, `train` and `score` stages.
# MAGIC Training is an MLflow run whose model is registered (`energy-anomaly`, aliases `champion`
# MAGIC and `challenger`); every scoring run writes `gold/monitoring`.

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

import dataclasses  # noqa: E402

from energy_anomaly.commands.models import score, train  # noqa: E402
from energy_anomaly.config import Config, FeaturesConfig  # noqa: E402

# The stages' settings come from the config (conf/local.yaml, or defaults); the widgets override
# the warehouse and periods. Tracking URI: mlflow.tracking_uri in the config, MLFLOW_TRACKING_URI,
# or the SQLite store under <warehouse>/mlflow.
config = dataclasses.replace(
    Config(warehouse=w["warehouse"]), features=FeaturesConfig(bank_holidays=w["bank_holidays"])
)
trained = train(
    config,
    start=dt.date.fromisoformat(w["train_start"]),
    end=dt.date.fromisoformat(w["train_end"]),
    per_stratum=int(w["per_stratum"]),
    epochs=int(w["epochs"]),
)

# COMMAND ----------

# MAGIC %md
# MAGIC Scored with the model just trained, by its registered version (the first one trained is the
# MAGIC champion; later ones are challengers until `energy-anomaly promote`).

# COMMAND ----------

from energy_anomaly.registry.store import Registry  # noqa: E402

registry = Registry.of(config)
registered = registry.version_of_bundle(trained.version)
scored = score(
    config,
    start=dt.date.fromisoformat(w["score_start"]),
    end=dt.date.fromisoformat(w["score_end"]),
    model_version=int(registered.version),
)

# COMMAND ----------

from pyspark.sql import functions as F  # noqa: E402

from energy_anomaly.tables import read_table  # noqa: E402

scores = read_table(spark, w["warehouse"], "gold/anomaly_scores")
scores.groupBy("model").agg(
    F.count("*").alias("days"),
    F.avg(F.col("is_anomaly").cast("double")).alias("flagged_share"),
    F.percentile_approx("score", 0.5).alias("median_score"),
).orderBy("model").show()

# COMMAND ----------

# MAGIC %md
# MAGIC ## The registry
# MAGIC Every version with its aliases; the champion loaded as MLflow's `pyfunc` (no project code
# MAGIC beyond the installed package) and asked for one household's scores.

# COMMAND ----------

import mlflow  # noqa: E402

for version in registry.client().search_model_versions(f"name='{registry.model_name}'"):
    print(f"version {version.version}: {version.tags.get('bundle_version')}, aliases {version.aliases}")
mlflow.set_tracking_uri(registry.tracking_uri)
mlflow.set_registry_uri(registry.registry_uri)
champion = mlflow.pyfunc.load_model(f"models:/{registry.model_name}@champion")
household = scores.select("household_id").first()[0]
features = read_table(spark, w["warehouse"], "gold/features").where(F.col("household_id") == household)
print(champion.predict(features.where(F.col("day") >= F.lit(w["score_start"])).toPandas()).tail(10))

# COMMAND ----------

# MAGIC %md
# MAGIC ## Monitoring over time
# MAGIC One row per scoring run and model: score PSI against training, flagged rate against the
# MAGIC training share, the share of households whose level moved beyond the season, `drift`.

# COMMAND ----------

monitoring = read_table(spark, w["warehouse"], "gold/monitoring").where(F.col("slice") == "overall")
monitoring.select(
    "scored_at", "scores_version", "model", "days", "psi", "flagged_rate", "moved_share", "completeness", "drift"
).orderBy("scores_version", "model").show(truncate=False)
