"""TensorFlow set-up shared by the Keras detectors: imported lazily, threads matched to the task."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

_configured = False
# What TensorFlow's C++ side prints while it loads, before its logging is set up: neither
# ``TF_CPP_MIN_LOG_LEVEL`` nor Python's logging reaches these lines, and every Python worker that
# scores would print them into the command's progress output.
LOAD_NOTICES = re.compile(
    r"oneDNN custom operations are on|All log messages before absl::InitializeLog|cpu_feature_guard"
    r"|This TensorFlow binary is optimized|rebuild TensorFlow with the appropriate compiler flags"
)


@contextmanager
def without_load_notices():
    """Holds back what is written to file descriptor 2 inside the block and writes it out again
    afterwards, all but the lines ``LOAD_NOTICES`` matches: an error TensorFlow prints still shows."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [
                line for line in held.read().decode(errors="replace").splitlines(True) if not LOAD_NOTICES.search(line)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def keras(threads: int = 1, seed: int = 42):
    """Imports Keras once per process with ``threads`` intra/inter-op threads and fixed seeds."""
    global _configured
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with without_load_notices() if "tensorflow" not in sys.modules else nullcontext():
        import keras as keras_module
        import tensorflow as tf

    if not _configured:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # already initialised in this process: keep its settings
            pass
        _configured = True
    keras_module.utils.set_random_seed(seed)
    return keras_module


VALIDATION_SPLIT = 0.15  # of the fit sample, for early stopping
# An epoch improves on the best so far only if it lowers the validation loss by more than this
# share of it. The forecaster's loss goes on falling by ~0.1 % an epoch long after its scores stop
# changing what they rank; counting those epochs as progress kept it training for nothing.
MIN_IMPROVEMENT = 0.002
# Training steps run per call into TensorFlow: the same batches and updates as one a call, with
# the per-step dispatch from Python paid once every this many steps (the models are small, so
# that dispatch was a large part of a step).
STEPS_PER_EXECUTION = 32


def compile_for_training(model) -> None:
    """Adam and mean squared error, as both Keras detectors train."""
    k = keras()
    model.compile(optimizer=k.optimizers.Adam(1e-3), loss="mse", steps_per_execution=STEPS_PER_EXECUTION)


@dataclass
class KerasDetector:
    """Training settings and state shared by the Keras detectors."""

    epochs: int = 30
    batch_size: int = 128
    patience: int = 4
    seed: int = 42
    history: dict = field(default_factory=dict)
    model: object = None

    def fit_model(self, model, x, y) -> None:
        """Fits ``model`` with early stopping on a 15 % validation split; keeps the best weights."""
        self.model = model
        self.history = fit_with_early_stopping(
            model, x, y, epochs=self.epochs, batch_size=self.batch_size, patience=self.patience, seed=self.seed
        )


def fit_with_early_stopping(model, x, y, *, epochs: int, batch_size: int, patience: int, seed: int) -> dict:
    """The fit's summary and its per-epoch losses (``loss``, ``val_loss``: what the tracking run logs)."""
    k = keras(seed=seed)
    stop = _early_stopping(k, patience)
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        validation_split=VALIDATION_SPLIT,
        shuffle=True,
        verbose=0,
        callbacks=[stop],
    )
    return {
        "epochs": float(len(history.history["loss"])),
        "final_loss": float(history.history["loss"][-1]),
        "final_val_loss": float(history.history["val_loss"][-1]),
        "best_val_loss": float(min(history.history["val_loss"])),
        "loss": [float(v) for v in history.history["loss"]],
        "val_loss": [float(v) for v in history.history["val_loss"]],
    }


def _early_stopping(k, patience: int):
    """Stops after ``patience`` epochs without an improvement of ``MIN_IMPROVEMENT``, then restores
    the weights of the epoch with the lowest validation loss. Keras' own ``EarlyStopping`` takes
    an absolute ``min_delta``, and the two detectors' losses differ in scale."""

    class RelativeEarlyStopping(k.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.lowest = self.reference = float("inf")
            self.best_weights, self.wait = None, 0

        def on_epoch_end(self, epoch, logs=None):
            loss = float(logs["val_loss"])
            if loss < self.lowest:
                self.lowest, self.best_weights = loss, self.model.get_weights()
            if loss < self.reference * (1 - MIN_IMPROVEMENT):
                self.reference, self.wait = loss, 0
                return
            self.wait += 1
            if self.wait >= patience:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return RelativeEarlyStopping()


def infer(model, x, batch_size: int = 4096):
    """Inference by calling the model on chunks: ``model.predict`` costs tens of milliseconds per
    call in set-up, which dominates when scoring is grouped into many small batches. ``model`` is
    a Keras model or its numpy forward pass (``forward.Network``: how a loaded bundle scores)."""
    import numpy as np

    from energy_anomaly.models.forward import Network

    if isinstance(model, Network):  # runs in blocks of its own
        return model(x)
    if len(x) == 0:
        return np.zeros((0, *model.output_shape[1:]))
    return np.concatenate(
        [np.asarray(model(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    )
