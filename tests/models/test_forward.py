"""The networks' numpy forward pass (what scoring runs) against Keras on the same saved files."""

from __future__ import annotations

import numpy as np
import pytest

from energy_anomaly.errors import ArtifactError
from energy_anomaly.models import autoencoder, forward, lstm
from energy_anomaly.models.bundle import load_networks
from energy_anomaly.models.inputs import HISTORY_DAYS, SLOTS
from energy_anomaly.models.keras_runtime import infer, keras


def trained_like(model, seed: int):
    """Random weights of the scale training leaves (not the initialiser's): biases too."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0.0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    keras()
    folder = tmp_path_factory.mktemp("networks")
    paths = {}
    for name, build in (("lstm_forecaster", lstm.build), ("conv1d_autoencoder", autoencoder.build)):
        paths[name] = folder / f"{name}.keras"
        trained_like(build(), seed=len(paths)).save(paths[name])
    return paths


def inputs(rng, name: str, n: int) -> np.ndarray:
    shape = (n, HISTORY_DAYS, SLOTS) if name == "lstm_forecaster" else (n, SLOTS, 1)
    return np.log1p(rng.gamma(0.8, 1.0, size=shape)).astype(np.float32)


@pytest.mark.parametrize("name", ["lstm_forecaster", "conv1d_autoencoder"])
def test_the_numpy_pass_gives_what_keras_gives(saved, name):
    model = keras().models.load_model(saved[name], compile=False, safe_mode=True)
    network = forward.load(saved[name])
    x = inputs(np.random.default_rng(7), name, 3000)
    expected = infer(model, x, batch_size=1024)
    got = infer(network, x, batch_size=1024)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert infer(network, x[:0]).shape == (0, *expected.shape[1:])


def test_a_network_with_a_layer_numpy_does_not_run_loads_in_keras(saved, tmp_path):
    k = keras()
    inputs_ = k.Input((SLOTS, 1))
    strided = k.layers.Conv1D(4, 3, strides=2, padding="same")(inputs_)  # a stride forward.py refuses
    outputs = k.layers.UpSampling1D(2)(k.layers.Conv1D(1, 3, padding="same")(strided))
    path = tmp_path / "conv1d_autoencoder.keras"
    k.Model(inputs_, outputs).save(path)
    with pytest.raises(forward.Unsupported, match="stride"):
        forward.load(path)
    networks = load_networks({"conv1d_autoencoder": path, "lstm_forecaster": saved["lstm_forecaster"]}, threads=1)
    assert not any(isinstance(n, forward.Network) for n in networks.values())  # both in Keras, one runtime
    x = inputs(np.random.default_rng(1), "conv1d_autoencoder", 10)
    assert infer(networks["conv1d_autoencoder"], x).shape == x.shape


def test_a_file_that_is_not_a_keras_model_is_refused(tmp_path):
    path = tmp_path / "lstm_forecaster.keras"
    path.write_bytes(b"not a zip")
    with pytest.raises(ArtifactError, match="refused: not a Keras model file") as refused:
        load_networks({"lstm_forecaster": path}, threads=1)
    assert str(path) in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize("name", ["lstm_forecaster", "conv1d_autoencoder"])
def test_a_row_gets_the_same_bits_in_a_call_of_any_size(saved, name):
    """A daily update and a batch run score a day in calls of different sizes: same scores."""
    network = forward.load(saved[name])
    rng = np.random.default_rng(3)
    x = inputs(rng, name, 700)
    whole = network(x)
    for n in (1, 2, 5, 31, 256, 257, 699):
        rows = rng.permutation(len(x))[:n]
        np.testing.assert_array_equal(network(x[rows]), whole[rows])
