"""The trained artefact: three detectors, their calibrations and thresholds, and metadata.

A bundle is a folder: ``metadata.json``, ``isolation_forest.joblib``, ``conv1d_autoencoder.keras``,
``lstm_forecaster.keras``; ``<folder>.zip`` next to it is the same bundle as one file, the form
Spark ships to executors (``addArchive``: a local folder cannot be added on a cluster). ``model_version`` (in the metadata, and on every score row) is a
hash of the metadata, so the same training gives the same version.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from energy_anomaly.models import ENSEMBLE, MODELS
from energy_anomaly.models.autoencoder import AutoencoderDetector
from energy_anomaly.models.ensemble import Calibration, ensemble_score
from energy_anomaly.models.inputs import windows_of
from energy_anomaly.models.isolation_forest import IsolationForestDetector
from energy_anomaly.models.keras_runtime import keras
from energy_anomaly.models.lstm import LstmForecaster


@dataclass
class Bundle:
    isolation_forest: IsolationForestDetector
    conv1d_autoencoder: AutoencoderDetector
    lstm_forecaster: LstmForecaster
    calibrations: dict[str, Calibration]
    thresholds: dict[str, float]
    metadata: dict

    @property
    def version(self) -> str:
        return self.metadata["model_version"]

    def scores_and_forecast(self, features: pd.DataFrame) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Every model's score and the LSTM's forecast profile, from one pass of each model.
        ``features``: whole households sorted by (household_id, day)."""
        windows = windows_of(features)
        forecast = self.lstm_forecaster.forecast(features, windows=windows)
        raw = {
            "isolation_forest": self.isolation_forest.score(features),
            "conv1d_autoencoder": self.conv1d_autoencoder.score(features, windows=windows),
            "lstm_forecaster": self.lstm_forecaster.score(features, forecast=forecast, windows=windows),
        }
        raw[ENSEMBLE] = ensemble_score([self.calibrations[name].surprisal(raw[name]) for name in MODELS])
        return raw, forecast

    def scores(self, features: pd.DataFrame) -> dict[str, np.ndarray]:
        return self.scores_and_forecast(features)[0]

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.isolation_forest, folder / "isolation_forest.joblib")
        self.conv1d_autoencoder.model.save(folder / "conv1d_autoencoder.keras")
        self.lstm_forecaster.model.save(folder / "lstm_forecaster.keras")
        document = dict(self.metadata)
        document["calibrations"] = {name: dataclasses.asdict(c) for name, c in self.calibrations.items()}
        document["thresholds"] = self.thresholds
        document["history"] = {"conv1d_autoencoder": self.conv1d_autoencoder.history, "lstm_forecaster": self.lstm_forecaster.history}
        (folder / "metadata.json").write_text(json.dumps(document, indent=2, sort_keys=True, default=str))
        archive_path(folder).unlink(missing_ok=True)  # shipped form of an earlier save: rebuilt from these files
        return folder

    @classmethod
    def load(cls, folder: str | Path, threads: int = 1) -> "Bundle":
        folder = Path(folder)
        document = json.loads((folder / "metadata.json").read_text())
        k = keras(threads=threads)
        autoencoder = AutoencoderDetector(history=document["history"]["conv1d_autoencoder"])
        autoencoder.model = k.models.load_model(folder / "conv1d_autoencoder.keras", compile=False)
        lstm = LstmForecaster(history=document["history"]["lstm_forecaster"])
        lstm.model = k.models.load_model(folder / "lstm_forecaster.keras", compile=False)
        calibrations = {name: Calibration(tuple(c["quantiles"]), c["n_train"]) for name, c in document.pop("calibrations").items()}
        thresholds = document.pop("thresholds")
        document.pop("history")
        return cls(joblib.load(folder / "isolation_forest.joblib"), autoencoder, lstm, calibrations, thresholds, document)


def read_thresholds_and_version(folder: str | Path) -> tuple[dict[str, float], str]:
    """What a bundle's scores are judged by, without loading its models."""
    document = json.loads((Path(folder) / "metadata.json").read_text())
    return document["thresholds"], document["model_version"]


def version_of(metadata: dict) -> str:
    text = json.dumps({k: v for k, v in metadata.items() if k != "trained_at"}, sort_keys=True, default=str)
    return "v" + hashlib.sha256(text.encode()).hexdigest()[:12]


def archive_path(folder: Path) -> Path:
    return folder.with_name(folder.name + ".zip")


def archive_bundle(folder: str | Path) -> Path:
    """``<folder>.zip`` with the bundle's files at its root, written once (atomically) per bundle."""
    folder = Path(folder)
    archive = archive_path(folder)
    if archive.is_file():
        return archive
    partial = archive.with_name(archive.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            out.write(path, path.relative_to(folder))
    partial.replace(archive)
    return archive
