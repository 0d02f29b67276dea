"""The bundle as an MLflow ``pyfunc`` model, loaded without unpickling anything.

The registered model is logged in MLflow's ``loader_module`` form: its MLmodel file names this
module and its data is the bundle folder. ``mlflow.pyfunc.load_model("models:/energy-anomaly@champion")``
imports this module from the installed package and calls ``_load_pyfunc(<bundle folder>)``,
which loads the bundle as scoring does (skops with a fixed list of trusted types, Keras in safe
mode, every file's digest checked): no ``python_model.pkl``, no code file from the artefact store.

``predict`` takes gold/features rows (any households and days; a day is scored with the
household's earlier rows in the frame as its 7-day history) and returns one row per complete
day: ``household_id``, ``day`` and the four scores. The context columns are optional: without
``temperature_delta`` a day is judged as one in unchanged weather, without ``is_weekend`` it is
read from ``day``, without ``is_holiday`` no day is a bank holiday.
"""

from __future__ import annotations

import pandas as pd

from energy_anomaly.catalog import CONTEXT_COLUMNS, DETECTOR_FEATURES, SCORED_MODELS
from energy_anomaly.models.bundle import Bundle


def signature():
    """In: the gold/features columns the detectors read. Out: the four scores of each complete day."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import Array, ColSpec, DataType, Schema

    inputs = Schema(
        [
            ColSpec(DataType.string, "household_id"),
            ColSpec(DataType.datetime, "day"),
            ColSpec(DataType.boolean, "is_complete"),
            ColSpec(DataType.double, "level"),
            ColSpec(Array(DataType.double), "profile"),
            *[ColSpec(DataType.double, name, required=False) for name in DETECTOR_FEATURES],
            ColSpec(DataType.double, "temperature_delta", required=False),
            ColSpec(DataType.boolean, "is_weekend", required=False),
            ColSpec(DataType.boolean, "is_holiday", required=False),
        ]
    )
    assert {c.name for c in inputs.inputs} >= set(CONTEXT_COLUMNS)
    outputs = Schema(
        [
            ColSpec(DataType.string, "household_id"),
            ColSpec(DataType.datetime, "day"),
            *[ColSpec(DataType.double, name) for name in SCORED_MODELS],
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


class BundleModel:
    def __init__(self, bundle: Bundle):
        self.bundle = bundle

    def predict(self, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from energy_anomaly.scoring.core import score_in_calls

        frame = pd.DataFrame(model_input).copy()
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
        frame["profile"] = [list(p) for p in frame["profile"]]
        for name in DETECTOR_FEATURES:
            if name not in frame:
                frame[name] = float("nan")
        if "temperature_delta" not in frame:
            frame["temperature_delta"] = float("nan")
        if "is_weekend" not in frame:
            frame["is_weekend"] = pd.to_datetime(frame["day"]).dt.dayofweek >= 5
        if "is_holiday" not in frame:
            frame["is_holiday"] = False
        if frame.empty:
            return pd.DataFrame(columns=["household_id", "day", *SCORED_MODELS])
        wide = score_in_calls(frame, self.bundle, frame["day"].min(), frame["day"].max())
        out = wide[["household_id", "day", *[f"score_{m}" for m in SCORED_MODELS]]]
        out = out.rename(columns={f"score_{m}": m for m in SCORED_MODELS})
        return out.assign(day=pd.to_datetime(out["day"])).reset_index(drop=True)


def _load_pyfunc(data_path: str) -> BundleModel:
    """MLflow's entry point for a ``loader_module`` model: ``data_path`` is the bundle folder."""
    return BundleModel(Bundle.load(data_path))
