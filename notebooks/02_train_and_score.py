# Databricks notebook source
# MAGIC %md
# MAGIC # Train the detectors and score a period
# MAGIC Features, the stratified training sample, the three detectors and the ensemble, then
# MAGIC scoring every household-day of a period: the `features`, `train` and `score` stages.
# MAGIC Training is an MLflow run whose model is registered (`energy-anomaly`, aliases `champion`
# MAGIC and `challenger`); every scoring run writes `gold/monitoring`.

# COMMAND ----------

# MAGIC %md
# MAGIC On Databricks, install the wheel first (a job cluster from `databricks.yml` already has it):
# MAGIC `databricks bundle deploy` builds it into `dist/`; copy it to a Volume, or use the path the
# MAGIC deploy printed. Locally, `./bootstrap` installed it.

# COMMAND ----------

# MAGIC %pip install /Volumes/main/energy_anomaly/lake/wheels/energy_anomaly-0.1.0-py3-none-any.whl

# COMMAND ----------

try:
    spark, dbutils, display  # noqa: B018 - on Databricks all three exist
except NameError:
    from energy_anomaly.notebook import notebook_context

    spark, dbutils, display = notebook_context()

import dataclasses  # noqa: E402
import datetime as dt  # noqa: E402

from energy_anomaly.catalog import MODELS  # noqa: E402
from energy_anomaly.commands.pipeline import PROTOCOL_TEST, PROTOCOL_TRAIN  # noqa: E402
from energy_anomaly.notebook import notebook_config  # noqa: E402

# Every setting comes from the config (seed, threshold quantile, bank holidays, registry, ...);
# the widgets show its periods and training size, and override them for this notebook only.
config = notebook_config(dbutils)
train_period = (config.train.start or PROTOCOL_TRAIN[0], config.train.end or PROTOCOL_TRAIN[1])
score_period = (config.score.start or PROTOCOL_TEST[0], config.score.end or PROTOCOL_TEST[1])
dbutils.widgets.text("train_start", str(train_period[0]), "Training from")
dbutils.widgets.text("train_end", str(train_period[1]), "Training to")
dbutils.widgets.text("score_start", str(score_period[0]), "Scoring from")
dbutils.widgets.text("score_end", str(score_period[1]), "Scoring to")
dbutils.widgets.text("per_stratum", str(config.train.per_stratum), "Days per stratum")
dbutils.widgets.text("epochs", str(config.train.epochs), "Keras epochs (at most)")
dbutils.widgets.dropdown("flag_model", config.score.flag_model, list(MODELS), "Model whose flags go to gold/anomalies")
day = lambda name: dt.date.fromisoformat(dbutils.widgets.get(name))  # noqa: E731
config = dataclasses.replace(
    config,
    score=dataclasses.replace(config.score, flag_model=dbutils.widgets.get("flag_model")),
)
print(f"config {config.source}: seed {config.train.seed}, threshold quantile {config.train.threshold_quantile}")

# COMMAND ----------

from energy_anomaly.commands.models import features, score, train  # noqa: E402

features(config)
trained = train(
    config,
    start=day("train_start"),
    end=day("train_end"),
    per_stratum=int(dbutils.widgets.get("per_stratum")),
    epochs=int(dbutils.widgets.get("epochs")),
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
    start=day("score_start"),
    end=day("score_end"),
    model_version=int(registered.version),
)

# COMMAND ----------

from pyspark.sql import functions as F  # noqa: E402

from energy_anomaly.tables import read_table  # noqa: E402

scores = read_table(spark, config.warehouse, "gold/anomaly_scores")
summary = (
    scores.groupBy("model")
    .agg(
        F.count("*").alias("days"),
        F.avg(F.col("is_anomaly").cast("double")).alias("flagged_share"),
        F.percentile_approx("score", 0.5).alias("median_score"),
    )
    .orderBy("model")
)
display(summary)

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
household_features = read_table(spark, config.warehouse, "gold/features").where(F.col("household_id") == household)
display(champion.predict(household_features.where(F.col("day") >= F.lit(day("score_start"))).toPandas()).tail(10))

# COMMAND ----------

# MAGIC %md
# MAGIC ## Monitoring over time
# MAGIC One row per scoring run and model: score PSI against training, flagged rate against the
# MAGIC training share, the share of households whose level moved beyond the season, `drift`.

# COMMAND ----------

monitoring = read_table(spark, config.warehouse, "gold/monitoring").where(F.col("slice") == "overall")
display(
    monitoring.select(
        "scored_at", "scores_version", "model", "days", "psi", "flagged_rate", "moved_share", "completeness", "drift"
    ).orderBy("scores_version", "model")
)
