"""The trained artefact: three detectors, their calibrations and thresholds, and metadata.

A bundle is a folder: ``metadata.json``, ``isolation_forest.skops``, ``conv1d_autoencoder.keras``,
``lstm_forecaster.keras``; ``<folder>.zip`` next to it is the same bundle as one file, the form
Spark ships to executors (``addArchive``: a local folder cannot be added on a cluster).
``model_version`` (in the metadata, and on every score row) is a hash of the metadata, so the same
training gives the same version.

Loading executes no code from the folder: anyone who can write the warehouse could otherwise run
code on every executor. The forest is a ``skops`` file loaded with a fixed list of trusted types
(no pickle); the networks' files are read as data by ``forward`` (layers it implements, weights),
and one it cannot run loads in Keras' safe mode (no lambdas); every artefact's SHA-256,
recorded in the metadata at save time, is checked before it is opened. A file that fails any of
these is refused with ``ArtifactError``, naming it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from energy_anomaly.catalog import ENSEMBLE
from energy_anomaly.errors import ArtifactError
from energy_anomaly.models import forward
from energy_anomaly.models.autoencoder import AutoencoderDetector
from energy_anomaly.models.context import ContextScale
from energy_anomaly.models.ensemble import FORMER_MEMBERS, Calibration, fuse
from energy_anomaly.models.inputs import FORMER_IF_FEATURES, windows_of
from energy_anomaly.models.isolation_forest import IsolationForestDetector
from energy_anomaly.models.keras_runtime import keras
from energy_anomaly.models.lstm import LstmForecaster

FOREST_FILE = "isolation_forest.skops"
KERAS_FILES = {"conv1d_autoencoder": "conv1d_autoencoder.keras", "lstm_forecaster": "lstm_forecaster.keras"}
# The one type of a fitted IsolationForest that skops does not trust by default. Fixed here, in
# code: a list read from the artefact's folder would let its writer widen it.
FOREST_TRUSTED_TYPES = ("sklearn.tree._tree.Tree",)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_file(folder: Path, name: str, digests: dict[str, str]) -> Path:
    """``folder/name`` if its SHA-256 is the one recorded at save time, else ``ArtifactError``."""
    path = folder / name
    if name not in digests:
        raise ArtifactError(
            f"{path}: no digest recorded for it in metadata.json (a bundle from an older version? train again)"
        )
    if not path.is_file():
        raise ArtifactError(f"{path}: missing from the bundle")
    if file_digest(path) != digests[name]:
        raise ArtifactError(
            f"{path}: refused: its SHA-256 differs from the one recorded when it was trained (modified since)"
        )
    return path


def first_line(exc: BaseException) -> str:
    """An exception's first line (at most 160 characters), for a one-line refusal."""
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__


def load_forest(path: Path):
    """The fitted forest from a skops file, refusing any type outside ``FOREST_TRUSTED_TYPES``."""
    import skops.io as sio

    try:
        return sio.load(path, trusted=list(FOREST_TRUSTED_TYPES))
    except Exception as exc:  # skops raises UntrustedTypesFoundException, or a parse error for a non-skops file
        raise ArtifactError(f"{path}: refused: not a forest of trusted types ({first_line(exc)})") from exc


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

    def scores_and_forecast(
        self, features: pd.DataFrame, windows: np.ndarray | None = None
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Every model's score and the LSTM's forecast profile, from one pass of each model.
        ``features``: whole households sorted by (household_id, day), or any rows with their
        ``windows`` (``inputs.day_windows``)."""
        windows = windows_of(features) if windows is None else windows
        forecast = self.lstm_forecaster.forecast(features, windows=windows)
        raw = {
            "isolation_forest": self.isolation_forest.score(features),
            "conv1d_autoencoder": self.conv1d_autoencoder.score(features, windows=windows),
            "lstm_forecaster": self.lstm_forecaster.score(features, forecast=forecast, windows=windows),
        }
        raw[ENSEMBLE] = fuse(raw, self.calibrations, self.ensemble_members)
        return raw, forecast

    @property
    def ensemble_members(self) -> tuple[str, ...]:
        """The detectors this bundle's ensemble (and its threshold) was fitted on."""
        return tuple(self.metadata.get("ensemble_members", FORMER_MEMBERS))

    def scores(self, features: pd.DataFrame) -> dict[str, np.ndarray]:
        return self.scores_and_forecast(features)[0]

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        import skops.io as sio

        sio.dump(self.isolation_forest.model, folder / FOREST_FILE)
        self.conv1d_autoencoder.model.save(folder / KERAS_FILES["conv1d_autoencoder"])
        self.lstm_forecaster.model.save(folder / KERAS_FILES["lstm_forecaster"])
        document = dict(self.metadata)
        document["digests"] = {name: file_digest(folder / name) for name in (FOREST_FILE, *KERAS_FILES.values())}
        document["calibrations"] = {name: dataclasses.asdict(c) for name, c in self.calibrations.items()}
        document["thresholds"] = self.thresholds
        document["history"] = {
            "conv1d_autoencoder": self.conv1d_autoencoder.history,
            "lstm_forecaster": self.lstm_forecaster.history,
        }
        (folder / "metadata.json").write_text(json.dumps(document, indent=2, sort_keys=True, default=str))
        archive_path(folder).unlink(missing_ok=True)  # shipped form of an earlier save: rebuilt from these files
        return folder

    @classmethod
    def load(cls, folder: str | Path, threads: int = 1) -> "Bundle":
        folder = Path(folder)
        document = read_metadata(folder)
        digests = document.pop("digests", {})
        settings = dict(document["isolation_forest"])
        settings["features"] = tuple(settings.get("features", FORMER_IF_FEATURES))
        settings["context"] = ContextScale.from_json(settings["context"]) if "context" in settings else None
        forest = IsolationForestDetector(**settings, seed=document["seed"])
        forest.model = load_forest(checked_file(folder, FOREST_FILE, digests))
        files = {name: checked_file(folder, file, digests) for name, file in KERAS_FILES.items()}
        networks = load_networks(files, threads)
        autoencoder = AutoencoderDetector(history=document["history"]["conv1d_autoencoder"])
        autoencoder.model = networks["conv1d_autoencoder"]
        lstm = LstmForecaster(history=document["history"]["lstm_forecaster"])
        lstm.model = networks["lstm_forecaster"]
        calibrations = calibrations_of(document)
        document.pop("calibrations")
        thresholds = document.pop("thresholds")
        document.pop("history")
        return cls(forest, autoencoder, lstm, calibrations, thresholds, document)


def load_networks(paths: dict[str, Path], threads: int) -> dict[str, object]:
    """The networks' numpy forward passes (``forward``: no TensorFlow in the process); Keras
    models, with TensorFlow on ``threads`` threads, if either has a layer numpy does not run."""
    networks = {name: load_network(path) for name, path in paths.items()}
    if all(network is not None for network in networks.values()):
        return networks
    k = keras(threads=threads)
    return {name: load_keras(k, path) for name, path in paths.items()}


def load_network(path: Path) -> forward.Network | None:
    """A network file's numpy forward pass, or None if it has a layer ``forward`` lacks."""
    try:
        return forward.load(path)
    except forward.Unsupported:
        return None
    except Exception as exc:  # not a zip, no config or weights in it, ...
        raise ArtifactError(f"{path}: refused: not a Keras model file ({first_line(exc)})") from exc


def load_keras(k, path: Path):
    """A Keras model in safe mode: a file with a serialized lambda (code) is refused."""
    try:
        return k.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        raise ArtifactError(
            f"{path}: refused: not a Keras model this version can load safely ({first_line(exc)})"
        ) from exc


def read_metadata(folder: Path) -> dict:
    path = folder / "metadata.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ArtifactError(f"{folder}: not a model bundle (no metadata.json)") from exc
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: unreadable ({type(exc).__name__})") from exc


def calibrations_of(document: dict) -> dict[str, Calibration]:
    """Each model's (and the ensemble's) calibration from a bundle's metadata document."""
    return {name: Calibration(tuple(c["quantiles"]), c["n_train"]) for name, c in document["calibrations"].items()}


def read_thresholds_and_version(folder: str | Path) -> tuple[dict[str, float], str]:
    """What a bundle's scores are judged by, without loading its models."""
    document = read_metadata(Path(folder))
    return document["thresholds"], document["model_version"]


@dataclass(frozen=True)
class TrainingDistributions:
    """What a scoring run is compared with: each model's training score quantiles, the training
    period (whose days give each household's usual level) and the share of training days the
    thresholds flag."""

    scores: dict[str, np.ndarray]
    training_period: tuple[str, str]
    flagged_rate: float


def read_training_distributions(folder: str | Path) -> TrainingDistributions:
    document = read_metadata(Path(folder))
    return TrainingDistributions(
        scores={name: np.asarray(c["quantiles"], dtype=float) for name, c in document["calibrations"].items()},
        training_period=tuple(document["training_period"]),
        flagged_rate=1.0 - float(document["threshold_quantile"]),
    )


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
