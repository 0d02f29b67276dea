"""Runs, registered versions and aliases on MLflow.

Embedded default: a SQLite store ``<warehouse>/mlflow/mlflow.db`` with artefacts under
``<warehouse>/mlflow/artifacts``, nothing to start. On a cluster or Databricks the URIs come from
the config (``mlflow.tracking_uri``, ``mlflow.registry_uri``) or ``MLFLOW_TRACKING_URI`` /
``MLFLOW_REGISTRY_URI``.

Each ``train`` is one MLflow run (parameters, the sample per stratum, per-epoch losses, the
gold/features Delta version it read) that logs the bundle as a ``pyfunc`` model and registers it
as a new version of ``energy-anomaly``. The first version becomes ``champion``, later ones
``challenger``; ``promote`` moves ``champion``. Every version carries the bundle's model version
(``bundle_version``: the hash on every score row) and the SHA-256 of its ``metadata.json``, which
holds the digests of the bundle's other files: a bundle is used only if that digest, read from the
registry, matches, so writing the warehouse is not enough to change what scores.

Scoring reads the bundle from ``<warehouse>/models/<bundle_version>``, a copy of the registered
artefact (downloaded when missing) checked against that digest.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from energy_anomaly import catalog, tables
from energy_anomaly.config import Config, is_uri
from energy_anomaly.errors import ArtifactError, ConfigError, EnergyAnomalyError
from energy_anomaly.models.bundle import file_digest, first_line, read_metadata

URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
CHAMPION = "champion"
CHALLENGER = "challenger"
ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
# What a registered version's ``bundle_version`` tag may hold (bundle.version_of), never a path.
BUNDLE_VERSION = re.compile(r"^v[0-9a-f]{12}$")
METADATA_DIGEST_TAG = "metadata_sha256"
BUNDLE_VERSION_TAG = "bundle_version"
# The evaluation figure ``promote`` compares: the ensemble's AUC-ROC over all labelled days.
PROMOTION_METRIC = ("overall", catalog.ENSEMBLE, "auc_roc")


def _quiet_mlflow():
    """MLflow sets its loggers to INFO on import (store migrations, "Created version ..."): a
    scheduler's log gets this package's own lines instead."""
    import mlflow  # noqa: F401 (configures its loggers; levels set after)

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def metric_key(labels_key: str, slice_name: str, model: str, metric: str) -> str:
    """``eval/<labels>/<slice>/<model>/<metric>``: a slice's ``=`` becomes ``:``, anything else
    MLflow does not allow in a metric name ``_``."""
    parts = [labels_key, slice_name.replace("=", ":"), model, metric]
    return "eval/" + "/".join(re.sub(r"[^\w.\- :]", "_", p) for p in parts)


@dataclass
class Registry:
    tracking_uri: str
    registry_uri: str
    experiment: str
    model_name: str
    artifact_root: str | None  # the experiment's artefact location, where it is ours to choose
    embedded_db: Path | None = None  # the SQLite file of the embedded store (created by the first train)
    seconds: float = field(default=0.0)  # time spent in MLflow calls: the lifecycle's overhead

    @classmethod
    def of(cls, config: Config) -> "Registry":
        tracking = config.mlflow.tracking_uri or os.environ.get(URI_VARIABLES[0])
        registry = config.mlflow.registry_uri or os.environ.get(URI_VARIABLES[1])
        artifact_root = embedded_db = None
        if tracking is None:
            if is_uri(config.warehouse) and not config.warehouse.startswith("file:"):
                raise ConfigError(
                    f"warehouse {config.warehouse} is not a local folder: set mlflow.tracking_uri in the config "
                    "or MLFLOW_TRACKING_URI"
                )
            root = Path(tables.table_path(config.warehouse, catalog.MLFLOW_FOLDER).removeprefix("file:")).resolve()
            embedded_db = root / "mlflow.db"
            tracking = f"sqlite:///{embedded_db}"
            artifact_root = (root / "artifacts").as_uri()
        names = (config.mlflow.experiment, config.mlflow.model_name)
        return cls(tracking, registry or tracking, *names, artifact_root, embedded_db)

    @contextlib.contextmanager
    def timed(self):
        """Around every MLflow call: its time, and the process's MLflow variables as they were.
        ``mlflow.set_tracking_uri`` also sets ``MLFLOW_TRACKING_URI`` for the whole process, which
        would make the next warehouse's registry this one's."""
        saved = {name: os.environ.get(name) for name in URI_VARIABLES}
        began = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - began
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def _ready(self) -> None:
        """MLflow imported with its loggers quiet, and the embedded store's folder there."""
        _quiet_mlflow()
        if self.embedded_db is not None:
            self.embedded_db.parent.mkdir(parents=True, exist_ok=True)

    def client(self):
        from mlflow import MlflowClient

        self._ready()
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)

    def _use(self):
        import mlflow

        self._ready()
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.registry_uri)
        return mlflow

    def experiment_id(self) -> str:
        client = self.client()
        found = client.get_experiment_by_name(self.experiment)
        if found is not None:
            return found.experiment_id
        return client.create_experiment(self.experiment, artifact_location=self.artifact_root)

    # --- training -------------------------------------------------------------------------
    @contextlib.contextmanager
    def training_run(self, params: dict):
        """An MLflow run around a training; failed if the block raises."""
        with self.timed():
            mlflow = self._use()
            run = mlflow.start_run(experiment_id=self.experiment_id(), run_name="train")
            mlflow.log_params({k: str(v) for k, v in params.items()})
        try:
            yield run
        except BaseException:
            with self.timed():
                mlflow.end_run(status="FAILED")
            raise
        with self.timed():
            mlflow.end_run()

    def log_training(self, metadata: dict, features_version: int | None) -> None:
        """The sample per stratum, per-epoch losses and lineage, on the active run."""
        from energy_anomaly.models.keras_runtime import MIN_IMPROVEMENT, VALIDATION_SPLIT, KerasDetector

        keras_settings = KerasDetector()
        with self.timed():
            mlflow = self._use()
            mlflow.log_params(
                {
                    "gold_features_delta_version": str(features_version),
                    "keras.batch_size": keras_settings.batch_size,
                    "keras.patience": keras_settings.patience,
                    "keras.min_improvement": MIN_IMPROVEMENT,
                    "keras.validation_split": VALIDATION_SPLIT,
                    "isolation_forest.n_estimators": metadata["isolation_forest"]["n_estimators"],
                    "isolation_forest.max_samples": metadata["isolation_forest"]["max_samples"],
                    "bundle_version": metadata["model_version"],
                }
            )
            mlflow.set_tag("lineage.gold_features_delta_version", str(features_version))
            sizes = {k: metadata[k] for k in ("sample_days", "fit_days", "calibration_days", "households")}
            mlflow.log_metrics({f"sample.{k}": float(v) for k, v in sizes.items()})
            mlflow.log_dict(metadata["strata"], "sample_per_stratum.json")
            for model, history in metadata["final_losses"].items():
                for epoch, (loss, val) in enumerate(zip(history.get("loss", []), history.get("val_loss", []))):
                    mlflow.log_metrics({f"{model}.loss": loss, f"{model}.val_loss": val}, step=epoch)

    def register(self, folder: Path) -> tuple[int, str]:
        """Logs the bundle as a pyfunc model on the active run and registers it. Returns
        (registered version, alias given: champion for the first version, else challenger)."""
        from importlib.metadata import version as installed

        from energy_anomaly.registry.pyfunc import signature

        metadata = read_metadata(folder)
        with self.timed():
            mlflow = self._use()
            # "An input example was not provided": the signature is given; an example would be
            # scored at logging time, loading TensorFlow for nothing. MLflow also prints its own
            # "Created version ..." lines to stderr; train prints the version it registered.
            with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore", UserWarning)
                info = mlflow.pyfunc.log_model(
                    name="model",
                    loader_module="energy_anomaly.registry.pyfunc",
                    data_path=str(folder),
                    signature=signature(),
                    pip_requirements=[f"energy-anomaly=={installed('energy-anomaly')}"],
                    registered_model_name=self.model_name,
                )
            number = int(info.registered_model_version)
            client = self.client()
            client.set_model_version_tag(self.model_name, str(number), BUNDLE_VERSION_TAG, metadata["model_version"])
            client.set_model_version_tag(
                self.model_name, str(number), METADATA_DIGEST_TAG, file_digest(folder / "metadata.json")
            )
            alias = CHALLENGER if self._alias_version(CHAMPION) is not None else CHAMPION
            client.set_registered_model_alias(self.model_name, alias, str(number))
        return number, alias

    # --- resolving --------------------------------------------------------------------------
    def _alias_version(self, alias: str):
        from mlflow.exceptions import MlflowException

        try:
            return self.client().get_model_version_by_alias(self.model_name, alias)
        except MlflowException:
            return None

    def model_version(self, *, alias: str | None = None, version: int | None = None):
        """The registered version a flag names (default: the champion), or a one-line error."""
        from mlflow.exceptions import MlflowException

        self._require_store()
        if version is not None:
            try:
                return self.client().get_model_version(self.model_name, str(version))
            except MlflowException:
                raise EnergyAnomalyError(
                    f"model {self.model_name} has no version {version} in the registry ({self.registry_uri})"
                ) from None
        alias = alias or CHAMPION
        if not ALIAS.fullmatch(alias):
            raise EnergyAnomalyError(f"--alias {alias[:40]!r}: an alias is letters, digits, _ and -")
        found = self._alias_version(alias)
        if found is None:
            if not self.client().search_registered_models(max_results=1000):
                raise EnergyAnomalyError(f"no trained model in the registry ({self.registry_uri}): run train first")
            raise EnergyAnomalyError(f"no version of model {self.model_name} has the alias {alias!r}")
        return found

    def _require_store(self) -> None:
        """An embedded store no train has created yet is refused before a client would create it."""
        if self.embedded_db is not None and not self.embedded_db.is_file():
            raise EnergyAnomalyError(f"no trained model in the registry ({self.registry_uri}): run train first")

    def bundle_folder(self, warehouse: str, *, alias: str | None = None, version: int | None = None) -> Path:
        """The bundle of a registered version under ``<warehouse>/models/``, downloaded there if it
        is missing, and refused unless its metadata digest is the one the registry recorded."""
        with self.timed():
            found = self.model_version(alias=alias, version=version)
            tags = found.tags or {}
            bundle_version = tags.get(BUNDLE_VERSION_TAG, "")
            if not BUNDLE_VERSION.fullmatch(bundle_version) or METADATA_DIGEST_TAG not in tags:
                raise ArtifactError(
                    f"registered version {found.version} of {self.model_name} carries no bundle version and digest: "
                    "not registered by this package's train"
                )
            folder = tables.models_dir(warehouse) / bundle_version
            if not (folder / "metadata.json").is_file():
                self._download(found.version, folder)
            if file_digest(folder / "metadata.json") != tags[METADATA_DIGEST_TAG]:
                raise ArtifactError(
                    f"{folder / 'metadata.json'}: refused: its SHA-256 differs from the one the registry recorded "
                    f"for version {found.version} (modified since it was registered)"
                )
        return folder

    def _download(self, number: str, folder: Path) -> None:
        mlflow = self._use()
        with tempfile.TemporaryDirectory() as scratch:
            try:
                uri = f"models:/{self.model_name}/{number}"
                local = Path(mlflow.artifacts.download_artifacts(uri, dst_path=scratch))
            except Exception as exc:  # MLflow's own, or an OSError of the artefact store
                raise ArtifactError(
                    f"registered version {number} of {self.model_name}: its artefacts could not be read "
                    f"({first_line(exc)})"
                ) from exc
            found = sorted(local.rglob("metadata.json"))
            if not found:
                raise ArtifactError(f"registered version {number} of {self.model_name}: no bundle in its artefacts")
            folder.parent.mkdir(parents=True, exist_ok=True)
            partial = folder.with_name(folder.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(found[0].parent, partial)
            partial.replace(folder)

    # --- evaluation and promotion -----------------------------------------------------------
    def version_of_bundle(self, bundle_version: str):
        """The registered version whose bundle is ``bundle_version``, or None."""
        versions = self.client().search_model_versions(f"name='{self.model_name}'", max_results=10_000)
        matching = [v for v in versions if (v.tags or {}).get(BUNDLE_VERSION_TAG) == bundle_version]
        return max(matching, key=lambda v: int(v.version)) if matching else None

    def log_evaluation(self, bundle_version: str, labels_key: str, metrics) -> int | None:
        """gold/metrics rows of one evaluation as metrics of the run that trained the version
        (``eval/<labels>/<slice>/<model>/<metric>``). Returns the registered version, None if the
        bundle is not registered (scored with ``--model DIR``)."""
        from mlflow.entities import Metric

        with self.timed():
            found = self.version_of_bundle(bundle_version)
            if found is None or not found.run_id:
                return None
            now = int(time.time() * 1000)
            entries = [
                Metric(metric_key(labels_key, r.slice, r.model, r.metric), float(r.value), now, 0)
                for r in metrics.itertuples()
            ]
            client = self.client()
            for i in range(0, len(entries), 1000):  # MLflow takes at most 1,000 metrics per batch
                client.log_batch(found.run_id, metrics=entries[i : i + 1000])
        return int(found.version)

    def evaluations(self, found) -> dict[str, float]:
        """labels key -> the promotion metric, from the run that trained a version."""
        slice_name, model, metric = PROMOTION_METRIC
        run = self.client().get_run(found.run_id)
        out = {}
        for key, value in run.data.metrics.items():
            parts = key.split("/")
            if len(parts) == 5 and parts[0] == "eval" and parts[2:] == [slice_name, model, metric]:
                out[parts[1]] = value
        return out

    def promote(self, *, version: int | None = None, force: bool = False) -> tuple[str | None, str, str]:
        """Moves ``champion`` to ``version`` (default: the challenger). Refused when the candidate's
        ensemble AUC-ROC is below the champion's on labels both were evaluated on, or when there
        are no such labels, unless ``force``. Returns (old champion, new champion, reason)."""
        with self.timed():
            self._require_store()
            challenger = self._alias_version(CHALLENGER)
            if version is not None:
                candidate = self.model_version(version=version)
            elif challenger is not None:
                candidate = challenger
            else:
                self.model_version()  # no model at all: that error first
                raise EnergyAnomalyError(
                    "no challenger to promote: train a new version, or name one with --model-version"
                )
            champion = self._alias_version(CHAMPION)
            if champion is not None and str(champion.version) == str(candidate.version):
                return str(champion.version), str(candidate.version), "already the champion"
            reason = "first champion"
            if champion is not None:
                ours, theirs = self.evaluations(candidate), self.evaluations(champion)
                common = sorted(set(ours) & set(theirs))
                if not common:
                    reason = "forced: no evaluation of both on the same labels"
                    if not force:
                        raise EnergyAnomalyError(
                            f"version {candidate.version} and the champion (version {champion.version}) have no "
                            "evaluation on the same labels: evaluate both on one set of labels, or --force"
                        )
                else:
                    worse = [k for k in common if ours[k] < theirs[k]]
                    figures = ", ".join(f"{ours[k]:.3f} vs {theirs[k]:.3f}" for k in (worse or common))
                    if worse and not force:
                        raise EnergyAnomalyError(
                            f"version {candidate.version} is worse than the champion (version {champion.version}) "
                            f"on the same labels (ensemble AUC-ROC {figures}): not promoted (--force to promote anyway)"
                        )
                    reason = ("forced: " if worse else "") + f"ensemble AUC-ROC {figures} on the same labels"
            client = self.client()
            client.set_registered_model_alias(self.model_name, CHAMPION, candidate.version)
            if challenger is not None and str(challenger.version) == str(candidate.version):
                client.delete_registered_model_alias(self.model_name, CHALLENGER)
        return (str(champion.version) if champion is not None else None), str(candidate.version), reason
