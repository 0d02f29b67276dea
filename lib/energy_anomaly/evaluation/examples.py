"""Caught and missed anomalies for the report: actual vs expected profile of a few labelled days.

The expected profile is the one ``gold/anomalies`` reports: the LSTM forecast from the household's
previous 7 days, in kWh. The model bundle is loaded on the driver for these few days only.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from energy_anomaly import tables
from energy_anomaly.catalog import ENSEMBLE, GOLD_FEATURES
from energy_anomaly.models.bundle import Bundle
from energy_anomaly.models.inputs import HISTORY_DAYS
from energy_anomaly.scoring.core import in_kwh

PER_VERDICT = 3


def pick_examples(cases: pd.DataFrame, per_verdict: int = PER_VERDICT) -> pd.DataFrame:
    """The ensemble's highest-scored caught anomalies and lowest-scored missed ones, one per type."""
    labelled = cases[(cases["model"] == ENSEMBLE) & cases["anomaly_type"].notna()]
    caught = labelled[labelled["is_anomaly"].eq(True)].sort_values("score", ascending=False)
    missed = labelled[~labelled["is_anomaly"].eq(True)].sort_values("score")
    picks = [
        frame.drop_duplicates("anomaly_type").head(per_verdict).assign(caught=verdict)
        for frame, verdict in ((caught, True), (missed, False))
    ]
    return pd.concat(picks, ignore_index=True)


def collect_examples(spark: SparkSession, warehouse: str, cases: pd.DataFrame, version: str) -> list[dict]:
    picks = pick_examples(cases)
    if picks.empty:
        return []
    wanted = spark.createDataFrame(picks[["household_id", "day"]].assign(day=pd.to_datetime(picks["day"]).dt.date))
    features = tables.read_table(spark, warehouse, GOLD_FEATURES).alias("f")
    context = features.join(
        wanted.alias("w"),
        (F.col("f.household_id") == F.col("w.household_id"))
        & F.col("f.day").between(F.date_sub(F.col("w.day"), HISTORY_DAYS), F.col("w.day")),
        how="left_semi",
    ).toPandas()
    context = context.sort_values(["household_id", "day"]).reset_index(drop=True)
    context["day"] = pd.to_datetime(context["day"]).dt.date
    bundle = Bundle.load(tables.models_dir(warehouse) / version)
    examples = []
    for household_id, rows in context.groupby("household_id", sort=False):
        rows = rows.reset_index(drop=True)
        actual, expected = in_kwh(rows, bundle.lstm_forecaster.forecast(rows))
        for _, pick in picks[picks["household_id"] == household_id].iterrows():
            at = np.flatnonzero((rows["day"] == _as_date(pick["day"])).to_numpy())
            if len(at):
                examples.append(
                    {
                        **pick[["household_id", "day", "anomaly_type", "caught", "score"]].to_dict(),
                        "actual": actual[at[0]],
                        "expected": expected[at[0]],
                    }
                )
    return sorted(examples, key=lambda e: (not e["caught"], e["anomaly_type"]))


def _as_date(value) -> dt.date:
    return pd.Timestamp(value).date()
