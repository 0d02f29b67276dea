"""The ``generate`` command: LCL-shaped data as raw CSV (either layout) or straight into bronze."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from energy_anomaly import catalog, tables
from energy_anomaly.errors import EnergyAnomalyError
from energy_anomaly.ingest.households import parse_household_lines, select_households
from energy_anomaly.ingest.parse import select_readings
from energy_anomaly.ingest.sources import discover
from energy_anomaly.ingest.stage import parse_sources, read_lines, replace_bronze_readings
from energy_anomaly.synth.generate import Quirks, Shape, generate_readings, household_plan
from energy_anomaly.synth.profiles import profile_library

logger = logging.getLogger(__name__)

HOUSEHOLDS_PER_BLOCK = 50  # the Kaggle release's block_N.csv hold ~50 households each
FORMATS = ("bronze", "kaggle", "datastore")


@dataclass(frozen=True)
class GenerateResult:
    households: int
    rows: int
    templates: int
    where: str


def numbered_households(spark: SparkSession, households_path: list[str]) -> tuple[DataFrame, int]:
    info = select_households(
        parse_household_lines(read_lines(spark, [s.path for s in discover(spark, households_path)]))
    )
    rows = sorted(info.collect(), key=lambda r: r.household_id)  # ~5.6k rows
    if not rows:
        raise EnergyAnomalyError("household information has no valid rows")
    numbered = [(i + 1, r.tariff, r.acorn, r.acorn_group) for i, r in enumerate(rows)]
    return spark.createDataFrame(numbered, "info_row LONG, tariff STRING, acorn STRING, acorn_group STRING"), len(rows)


NULL_TEXT = "Null"  # how both LCL layouts write a missing reading


def block_of(household_id: F.Column) -> F.Column:
    """Kaggle block name of a generated household (``MAC000001`` .. ``MAC000050`` -> ``block_0``)."""
    number = F.substring(household_id, 4, 6).cast("int") - 1
    return F.concat(F.lit("block_"), F.floor(number / HOUSEHOLDS_PER_BLOCK).cast("string"))


def _kwh_text() -> F.Column:
    return F.when(F.col("is_null"), F.lit(NULL_TEXT)).otherwise(
        F.concat(F.lit(" "), F.format_string("%.3f", "kwh"), F.lit(" "))
    )


def _csv_lines(readings: DataFrame, layout: str) -> DataFrame:
    block = block_of(F.col("household_id"))
    ts = F.date_format("ts", "yyyy-MM-dd HH:mm:ss")
    if layout == "kaggle":
        cols = [F.col("household_id").alias("LCLid"), ts.alias("tstp"), _kwh_text().alias("energy(kWh/hh)")]
    else:
        cols = [
            F.col("household_id").alias("LCLid"),
            F.col("tariff").alias("stdorToU"),
            F.concat(ts, F.lit(".0000000")).alias("DateTime"),
            _kwh_text().alias("KWH/hh (per half hour) "),
            F.col("acorn").alias("Acorn"),
            F.col("acorn_group").alias("Acorn_grouped"),
        ]
    return readings.select(block.alias("block"), "household_id", "ts", *cols)


def write_csv(readings: DataFrame, out: str, layout: str, compression: str) -> None:
    lines = (
        _csv_lines(readings, layout)
        .repartition("block")
        .sortWithinPartitions("household_id", "ts")
        .drop("household_id", "ts")
    )
    (
        lines.write.mode("overwrite")
        .partitionBy("block")
        .option("header", True)
        .option("compression", compression)
        .option("ignoreLeadingWhiteSpace", False)
        .option("ignoreTrailingWhiteSpace", False)
        .csv(f"{out}/halfhourly")
    )


def write_household_info(plan: DataFrame, out: str) -> None:
    block = block_of(F.col("household_id"))
    plan.select(
        F.col("household_id").alias("LCLid"),
        F.col("tariff").alias("stdorToU"),
        F.col("acorn").alias("Acorn"),
        F.col("acorn_group").alias("Acorn_grouped"),
        block.alias("file"),
    ).coalesce(1).orderBy("LCLid").write.mode("overwrite").option("header", True).csv(f"{out}/households")


def run_generate(
    spark: SparkSession,
    *,
    out_format: str,
    out: str,
    warehouse: str,
    profiles: list[str],
    households_info: list[str],
    shape: Shape,
    seed: int,
    max_kwh: float,
    compression: str = "none",
    quirks: Quirks = Quirks(),
) -> GenerateResult:
    if out_format not in FORMATS:
        raise EnergyAnomalyError(f"unknown --format {out_format!r}: one of {', '.join(FORMATS)}")
    real = select_readings(parse_sources(spark, discover(spark, profiles), max_kwh))
    library = profile_library(real).cache()
    n_templates = library.agg(F.max("template_id")).first()[0] + 1
    info, n_info = numbered_households(spark, households_info)
    plan = household_plan(spark, info, n_info, shape, seed).cache()
    readings = generate_readings(plan, library, n_templates, shape, quirks, seed, max_kwh)
    counted = Observation("generated")
    readings = readings.observe(counted, F.count(F.lit(1)).alias("rows"))
    if out_format == "bronze":
        source = f"generated:seed={seed}"
        bronze = readings.where(~F.col("is_null")).select(
            "household_id", "ts", "kwh", F.lit(source).alias("source_file")
        )
        replace_bronze_readings(bronze, warehouse, [source], max_kwh)
        households = plan.select(
            "household_id", "tariff", "acorn", "acorn_group", F.lit(None).cast("string").alias("block")
        )
        tables.overwrite(households, warehouse, catalog.SILVER_HOUSEHOLDS)
        where = f"{tables.table_path(warehouse, catalog.BRONZE_READINGS)} (source_file = '{source}')"
    else:
        write_csv(readings, out, out_format, compression)
        write_household_info(plan, out)
        where = f"{out}/halfhourly (raw {out_format} layout) and {out}/households"
    rows = counted.get["rows"]
    library.unpersist()
    plan.unpersist()
    return GenerateResult(households=shape.households, rows=rows, templates=n_templates, where=where)
