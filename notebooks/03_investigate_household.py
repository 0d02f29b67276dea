# Databricks notebook source
# MAGIC %md
# MAGIC # Investigate one household's anomalies
# MAGIC Its scores over time from every model, the flagged days, and each flagged day's actual
# MAGIC half-hourly profile against what the LSTM expected. Empty `household_id` = the household
# MAGIC with the most anomalous kWh.

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

from energy_anomaly.notebook import notebook_config  # noqa: E402

config = notebook_config(dbutils)
warehouse = config.warehouse
dbutils.widgets.text("household_id", "", "Household (empty: the most anomalous)")
household_id = dbutils.widgets.get("household_id")

# COMMAND ----------

from pyspark.sql import functions as F  # noqa: E402

from energy_anomaly.tables import read_table  # noqa: E402

anomalies = read_table(spark, warehouse, "gold/anomalies")
if not household_id:
    top = (
        anomalies.groupBy("household_id")
        .agg(F.sum(F.abs("deviation_kwh")).alias("kwh"))
        .orderBy(F.desc("kwh"), "household_id")
        .first()
    )
    assert top is not None, "gold/anomalies is empty: nothing flagged to investigate"
    household_id = top["household_id"]
print("household:", household_id)
flagged = anomalies.where(F.col("household_id") == household_id).orderBy("day")
display(
    flagged.select(
        "day", "reason", "score", "actual_kwh", "expected_kwh", "top_deviating_times", "tariff", "acorn_group"
    )
)

# COMMAND ----------

import matplotlib.pyplot as plt  # noqa: E402

scores = read_table(spark, warehouse, "gold/anomaly_scores").where(F.col("household_id") == household_id).toPandas()
fig, axes = plt.subplots(4, 1, figsize=(10, 8), sharex=True)
for axis, (model, rows) in zip(axes, scores.sort_values("day").groupby("model")):
    axis.plot(rows["day"], rows["score"], linewidth=0.8)
    axis.axhline(rows["threshold"].iloc[0], color="grey", linestyle="--", linewidth=0.8)
    axis.scatter(rows.loc[rows["is_anomaly"], "day"], rows.loc[rows["is_anomaly"], "score"], color="tab:red", s=12)
    axis.set_ylabel(model, fontsize=8)
plt.show()

# COMMAND ----------

# MAGIC %md Each flagged day: actual half-hours against the LSTM's expectation from the 7 days before.

# COMMAND ----------

import datetime as dt  # noqa: E402

import numpy as np  # noqa: E402

from energy_anomaly.models.bundle import Bundle  # noqa: E402
from energy_anomaly.models.inputs import HISTORY_DAYS  # noqa: E402
from energy_anomaly.scoring.core import in_kwh  # noqa: E402
from energy_anomaly.tables import models_dir

days = [r["day"] for r in flagged.select("day").limit(6).collect()]
if days:
    version = flagged.first()["model_version"]
    bundle = Bundle.load(models_dir(warehouse) / version)
    features = (
        read_table(spark, warehouse, "gold/features")
        .where(
            (F.col("household_id") == household_id)
            & F.col("day").between(min(days) - dt.timedelta(days=HISTORY_DAYS), max(days))
        )
        .orderBy("day")
        .toPandas()
    )
    actual, expected = in_kwh(features, bundle.lstm_forecaster.forecast(features))
    fig, axes = plt.subplots(1, len(days), figsize=(4 * len(days), 3), squeeze=False)
    for axis, day in zip(axes[0], days):
        row = int(np.flatnonzero(features["day"].to_numpy() == day)[0])
        axis.plot(np.arange(48) / 2, expected[row], color="grey", label="expected")
        axis.plot(np.arange(48) / 2, actual[row], color="tab:red", label="actual")
        axis.set(title=str(day), xlabel="hour")
    axes[0][0].legend()
    plt.show()
