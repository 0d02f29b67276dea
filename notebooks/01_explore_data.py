# Databricks notebook source
# MAGIC %md
# MAGIC # Explore the smart-meter data
# MAGIC What ingest and clean made of the raw LCL files: households, readings accounted for,
# MAGIC quarantine reasons, completeness, and one household's consumption.
# MAGIC Run `energy-anomaly demo` (or `run`) first; point `warehouse` at its Delta warehouse.

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
# COMMAND ----------

from pyspark.sql import functions as F  # noqa: E402

from energy_anomaly.tables import read_table  # noqa: E402

# The households the warehouse holds (a widget lists at most 1,024 choices).
known = [r[0] for r in read_table(spark, warehouse, "silver/households").orderBy("household_id").limit(1000).collect()]
dbutils.widgets.dropdown("household_id", known[0], known, "Household")
household_id = dbutils.widgets.get("household_id")

# COMMAND ----------

bronze = read_table(spark, warehouse, "bronze/readings")
quarantine = read_table(spark, warehouse, "bronze/quarantine")
households = read_table(spark, warehouse, "silver/households")
daily = read_table(spark, warehouse, "silver/daily")

accounted = {"bronze readings": bronze.count(), "quarantined": quarantine.count()}
print(accounted, "households:", households.count())
display(quarantine.groupBy("reason").count().orderBy(F.desc("count")))

# COMMAND ----------

# MAGIC %md Households by ACORN group and tariff, and how complete their days are.

# COMMAND ----------

display(households.groupBy("acorn_group", "tariff").count().orderBy("acorn_group", "tariff"))
completeness = daily.groupBy("household_id").agg(
    F.count("*").alias("days"), F.avg(F.col("is_complete").cast("double")).alias("complete_share")
)
display(completeness.orderBy("complete_share").limit(5))

# COMMAND ----------

import matplotlib.pyplot as plt  # noqa: E402

one = daily.where(F.col("household_id") == household_id).select("day", "daily_kwh").orderBy("day").toPandas()
assert len(one), f"{household_id} is not in silver/daily"
fig, axis = plt.subplots(figsize=(10, 3))
axis.plot(one["day"], one["daily_kwh"])
axis.set(title=f"{household_id}: daily kWh (complete days)", ylabel="kWh")
plt.show()
