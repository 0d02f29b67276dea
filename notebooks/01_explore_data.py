# Databricks notebook source
# MAGIC %md
# MAGIC # Explore the smart-meter data
# MAGIC What ingest and clean made of the raw LCL files: households, readings accounted for,
# MAGIC quarantine reasons, completeness, and one household's consumption.
# MAGIC Run `energy-anomaly demo` (or `run`) first; point `warehouse` at its Delta warehouse.

# COMMAND ----------

try:
    spark, dbutils  # noqa: B018 - on Databricks both exist
except NameError:
    from energy_anomaly.notebook import notebook_context

    spark, dbutils = notebook_context()

dbutils.widgets.text("warehouse", "warehouse", "Delta warehouse")
dbutils.widgets.text("household_id", "MAC000002", "Household")
warehouse = dbutils.widgets.get("warehouse")
household_id = dbutils.widgets.get("household_id")

# COMMAND ----------

from pyspark.sql import functions as F  # noqa: E402

from energy_anomaly.tables import read_table  # noqa: E402

bronze = read_table(spark, warehouse, "bronze/readings")
quarantine = read_table(spark, warehouse, "bronze/quarantine")
households = read_table(spark, warehouse, "silver/households")
daily = read_table(spark, warehouse, "silver/daily")

accounted = {"bronze readings": bronze.count(), "quarantined": quarantine.count()}
print(accounted, "households:", households.count())
quarantine.groupBy("reason").count().orderBy(F.desc("count")).show(truncate=False)

# COMMAND ----------

# MAGIC %md Households by ACORN group and tariff, and how complete their days are.

# COMMAND ----------

households.groupBy("acorn_group", "tariff").count().orderBy("acorn_group", "tariff").show()
completeness = daily.groupBy("household_id").agg(
    F.count("*").alias("days"), F.avg(F.col("is_complete").cast("double")).alias("complete_share")
)
completeness.orderBy("complete_share").show(5)

# COMMAND ----------

import matplotlib.pyplot as plt  # noqa: E402

one = daily.where(F.col("household_id") == household_id).select("day", "daily_kwh").orderBy("day").toPandas()
assert len(one), f"{household_id} is not in silver/daily"
fig, axis = plt.subplots(figsize=(10, 3))
axis.plot(one["day"], one["daily_kwh"])
axis.set(title=f"{household_id}: daily kWh (complete days)", ylabel="kWh")
plt.show()
