"""Fits the bundle on a pandas training sample (no Spark): detectors on a fit split, calibration
and thresholds on a held-out split of households, so thresholds are not set on data the models
have memorised."""

from __future__ import annotations

import datetime as dt
import zlib

import numpy as np
import pandas as pd

from energy_anomaly.catalog import ENSEMBLE, MODELS
from energy_anomaly.models.autoencoder import AutoencoderDetector
from energy_anomaly.models.bundle import Bundle, version_of
from energy_anomaly.models.ensemble import ENSEMBLE_MEMBERS, Calibration, fuse, threshold
from energy_anomaly.models.isolation_forest import IsolationForestDetector
from energy_anomaly.models.lstm import LstmForecaster

CALIBRATION_SHARE = 0.2


def is_calibration_household(household_id: str, seed: int) -> bool:
    return (zlib.crc32(f"{seed}:{household_id}".encode()) % 1000) < CALIBRATION_SHARE * 1000


def fit_bundle(
    sample: pd.DataFrame, *, seed: int, threshold_quantile: float, train_start: dt.date, train_end: dt.date, epochs: int
) -> Bundle:
    """``sample``: sampled complete days with features, ``profile`` and ``history`` (7 × 48)."""
    sample = sample.sort_values(["household_id", "day"]).reset_index(drop=True)
    held_out = sample["household_id"].map(lambda h: is_calibration_household(h, seed)).to_numpy(bool)
    if held_out.all() or not held_out.any():
        held_out = np.arange(len(sample)) % 5 == 0  # too few households to split by household
    fit_part, calibration_part = sample[~held_out], sample[held_out]

    detectors = {
        "isolation_forest": IsolationForestDetector(seed=seed).fit(fit_part),
        "conv1d_autoencoder": AutoencoderDetector(seed=seed, epochs=epochs).fit(fit_part),
        "lstm_forecaster": LstmForecaster(seed=seed, epochs=epochs).fit(fit_part),
    }
    raw = {name: detectors[name].score(calibration_part) for name in MODELS}
    calibrations = {name: Calibration.fit(raw[name]) for name in MODELS}
    raw[ENSEMBLE] = fuse(raw, calibrations, ENSEMBLE_MEMBERS)
    # The ensemble's own training distribution: what monitoring compares a scoring run's against.
    calibrations[ENSEMBLE] = Calibration.fit(raw[ENSEMBLE])
    thresholds = {name: threshold(scores, threshold_quantile) for name, scores in raw.items()}
    metadata = {
        "training_period": [str(train_start), str(train_end)],
        "sample_days": int(len(sample)),
        "fit_days": int(len(fit_part)),
        "calibration_days": int(len(calibration_part)),
        "households": int(sample["household_id"].nunique()),
        "strata": {
            f"{k[0]}|{k[1]}|{k[2]}": int(v)
            for k, v in sample.groupby(["acorn_group", "tariff", "season"]).size().items()
        },
        "seed": seed,
        "threshold_quantile": threshold_quantile,
        "ensemble_members": list(ENSEMBLE_MEMBERS),
        "epochs_max": epochs,
        "final_losses": {
            "conv1d_autoencoder": detectors["conv1d_autoencoder"].history,
            "lstm_forecaster": detectors["lstm_forecaster"].history,
        },
        "isolation_forest": {
            "n_estimators": detectors["isolation_forest"].n_estimators,
            "max_samples": detectors["isolation_forest"].max_samples,
            "features": list(detectors["isolation_forest"].features),
            "context": detectors["isolation_forest"].context.to_json(),
        },
    }
    metadata["model_version"] = version_of({**metadata, "thresholds": thresholds})
    return Bundle(calibrations=calibrations, thresholds=thresholds, metadata=metadata, **detectors)
