"""TensorFlow set-up shared by the Keras detectors: imported lazily, threads matched to the task."""
from __future__ import annotations

import os

_configured = False


def keras(threads: int = 1, seed: int = 42):
    """Imports Keras once per process with ``threads`` intra/inter-op threads and fixed seeds."""
    global _configured
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
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


def fit_with_early_stopping(model, x, y, *, epochs: int, batch_size: int, patience: int, seed: int) -> dict[str, float]:
    k = keras(seed=seed)
    stop = k.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=0.15, shuffle=True, verbose=0, callbacks=[stop])
    return {
        "epochs": float(len(history.history["loss"])),
        "final_loss": float(history.history["loss"][-1]),
        "final_val_loss": float(history.history["val_loss"][-1]),
        "best_val_loss": float(min(history.history["val_loss"])),
    }
