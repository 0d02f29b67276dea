"""The detectors' networks run forward in numpy: how scoring uses them, with no TensorFlow.

A scoring worker is a fresh Python process in every run (a daily update starts one per core),
and importing TensorFlow and Keras there costs seconds: more than scoring a day of every London
household. The two networks are small (an LSTM over 7 days, a Conv1D autoencoder over 48 slots),
so their forward pass is a few numpy operations on the weights Keras saved.

A saved ``.keras`` file is a zip of ``config.json`` (the layers and how they connect) and
``model.weights.h5`` (their weights, under ``layers/<name>``). ``load`` reads both and refuses
(``Unsupported``) any layer or setting it does not implement: the caller then loads the file in
Keras, so a network this module does not know still scores, only with TensorFlow's start-up. No
code is read from the file, as in Keras' own safe mode.

The arithmetic is Keras' (float32, the same activations and gate order), not its exact
summation order: outputs agree with Keras to float32 rounding (``tests/models/test_forward.py``).
A row's output must not depend on which other rows share its call: a daily update scores a day in
calls of other sizes than a batch run, and both must write the same scores. BLAS sums a small
matrix product in another order than a large one, so every product here has one shape: rows go
through in blocks of ``BLOCK_ROWS``, the last one padded with zeros.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Rows per forward pass (the last block padded): every matrix product has the same shape whatever
# the call's size, so a row gets the same bits in any call.
BLOCK_ROWS = 256


class Unsupported(Exception):
    """The network has a layer or setting this forward pass does not implement."""


ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)),  # 1 / (1 + e^-x), with no overflow
}


def _activation(name) -> callable:
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise Unsupported(f"activation {name!r}")
    return ACTIVATIONS[name]


def _single(value, what: str) -> int:
    """A 1-D layer's size setting, saved as an int or a one-element list."""
    values = value if isinstance(value, list) else [value]
    if len(values) != 1:
        raise Unsupported(f"{what} {value!r}")
    return int(values[0])


def dense(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    out = x @ kernel
    return out if bias is None else out + bias


def conv1d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None, padding: str) -> np.ndarray:
    """Stride 1, dilation 1, channels last: (n, length, in) -> (n, length', out)."""
    width = kernel.shape[0]
    if padding == "same":
        left = (width - 1) // 2
        x = np.pad(x, ((0, 0), (left, width - 1 - left), (0, 0)))
    elif padding != "valid":
        raise Unsupported(f"Conv1D padding {padding!r}")
    n, length, channels = x.shape
    steps = length - width + 1
    # Each output position's window, (n, steps, width, in), times the kernel as one matrix.
    windows = np.lib.stride_tricks.sliding_window_view(x, width, axis=1).transpose(0, 1, 3, 2)
    out = windows.reshape(n * steps, width * channels) @ kernel.reshape(width * channels, -1)
    out = out.reshape(n, steps, kernel.shape[-1])
    return out if bias is None else out + bias


def max_pool1d(x: np.ndarray, size: int) -> np.ndarray:
    n, length, channels = x.shape
    kept = length // size * size
    return x[:, :kept].reshape(n, length // size, size, channels).max(axis=2)


def lstm(
    x: np.ndarray, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray | None, activation, gate
) -> np.ndarray:
    """Keras' LSTM, the last step's output: gates in Keras' order (input, forget, cell, output)."""
    n = x.shape[0]
    units = recurrent.shape[0]
    h = np.zeros((n, units), dtype=x.dtype)
    c = np.zeros((n, units), dtype=x.dtype)
    inputs = x @ kernel  # every step's input term at once: (n, steps, 4 units)
    if bias is not None:
        inputs = inputs + bias
    for step in range(x.shape[1]):
        z = inputs[:, step] + h @ recurrent
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c = gate(f) * c + gate(i) * activation(g)
        h = gate(o) * activation(c)
    return h


@dataclass
class Layer:
    name: str
    kind: str
    config: dict
    inputs: list[str]  # the names of the layers whose outputs it takes
    weights: list[np.ndarray]

    def __call__(self, *xs: np.ndarray) -> np.ndarray:
        c, w = self.config, self.weights
        if self.kind == "InputLayer":
            return xs[0]
        if self.kind == "Dropout":  # inactive when not training
            return xs[0]
        if self.kind == "Add":
            return sum(xs[1:], xs[0])
        if self.kind == "GlobalAveragePooling1D":
            return xs[0].mean(axis=1)
        if self.kind == "UpSampling1D":
            return np.repeat(xs[0], _single(c["size"], "UpSampling1D size"), axis=1)
        if self.kind == "MaxPooling1D":
            return max_pool1d(xs[0], _single(c["pool_size"], "MaxPooling1D pool size"))
        if self.kind == "Dense":
            return _activation(c["activation"])(dense(xs[0], w[0], w[1] if c["use_bias"] else None))
        if self.kind == "Conv1D":
            return _activation(c["activation"])(conv1d(xs[0], w[0], w[1] if c["use_bias"] else None, c["padding"]))
        if self.kind == "LSTM":
            bias = w[2] if c["use_bias"] else None
            return lstm(xs[0], w[0], w[1], bias, _activation(c["activation"]), _activation(c["recurrent_activation"]))
        raise Unsupported(f"layer {self.kind}")


def check_layer(kind: str, config: dict) -> None:
    """Refuses what ``Layer`` would compute differently from Keras."""
    if kind in ("InputLayer", "Dropout", "Add"):
        return
    if kind == "GlobalAveragePooling1D":
        if config.get("keepdims") or config.get("data_format", "channels_last") != "channels_last":
            raise Unsupported("GlobalAveragePooling1D keeping dimensions or channels first")
        return
    if kind == "UpSampling1D":
        _single(config["size"], "UpSampling1D size")
        return
    if kind == "MaxPooling1D":
        size = _single(config["pool_size"], "MaxPooling1D pool size")
        strides = config.get("strides")
        if config.get("padding") != "valid" or (strides is not None and _single(strides, "strides") != size):
            raise Unsupported("MaxPooling1D other than valid, strides = pool size")
        return
    if kind == "Dense":
        _activation(config["activation"])
        return
    if kind == "Conv1D":
        _activation(config["activation"])
        plain = (
            _single(config.get("strides", 1), "strides") == 1
            and _single(config.get("dilation_rate", 1), "dilation") == 1
            and config.get("groups", 1) == 1
            and config.get("data_format", "channels_last") == "channels_last"
            and config.get("padding") in ("same", "valid")
        )
        if not plain:
            raise Unsupported("Conv1D other than stride 1, dilation 1, one group, channels last")
        return
    if kind == "LSTM":
        _activation(config["activation"])
        _activation(config["recurrent_activation"])
        if config.get("return_sequences") or config.get("return_state") or config.get("go_backwards"):
            raise Unsupported("LSTM returning sequences or states, or going backwards")
        if config.get("stateful"):
            raise Unsupported("stateful LSTM")
        return
    raise Unsupported(f"layer {kind}")


def _snake(kind: str) -> str:
    """Keras' weight-file name of a layer class (``keras.src.utils.naming.to_snake_case``):
    ``MaxPooling1D`` -> ``max_pooling1d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", kind)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


# How many weight arrays a layer saves: with its bias, without.
WEIGHTS = {"Dense": (2, 1), "Conv1D": (2, 1), "LSTM": (3, 2)}


def _sources(node) -> list[str]:
    """The layer names a node's arguments come from (``keras_history``), in order."""
    if isinstance(node, dict):
        if node.get("class_name") == "__keras_tensor__":
            return [node["config"]["keras_history"][0]]
        return [name for value in node.values() for name in _sources(value)]
    if isinstance(node, list):
        return [name for value in node for name in _sources(value)]
    return []


@dataclass
class Network:
    """A functional Keras model's layers in the order they are computed."""

    layers: list[Layer]
    output: str

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The outputs of ``x``'s rows, computed ``BLOCK_ROWS`` at a time."""
        x = x.astype(np.float32, copy=False)
        n = len(x)
        padded = np.zeros((max(-(-n // BLOCK_ROWS), 1) * BLOCK_ROWS, *x.shape[1:]), np.float32)
        padded[:n] = x
        blocks = [self._forward(padded[i : i + BLOCK_ROWS]) for i in range(0, len(padded), BLOCK_ROWS)]
        return np.concatenate(blocks)[:n]

    def _forward(self, x: np.ndarray) -> np.ndarray:
        values: dict[str, np.ndarray] = {}
        pending = list(self.layers)
        while pending:  # a layer runs once the layers it takes from have
            ready = [layer for layer in pending if all(name in values for name in layer.inputs)]
            for layer in ready:
                inputs = [values[name] for name in layer.inputs] if layer.inputs else [x]
                values[layer.name] = layer(*inputs)
            pending = [layer for layer in pending if layer.name not in values]
        return values[self.output]


def load(path: str | Path) -> Network:
    """The network of a ``.keras`` file; ``Unsupported`` if it has a layer this module lacks."""
    import h5py

    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        if config.get("class_name") not in ("Functional", "Sequential"):
            raise Unsupported(f"model class {config.get('class_name')}")
        model = config["config"]
        with archive.open("model.weights.h5") as raw, h5py.File(raw, "r") as weights:
            inputs, outputs = _names(model.get("input_layers")), _names(model.get("output_layers"))
            if config["class_name"] != "Functional" or len(inputs) != 1 or len(outputs) != 1:
                raise Unsupported("not a functional model with one input and one output")
            layers, seen = [], {}
            for entry in model["layers"]:
                kind, settings = entry["class_name"], entry["config"]
                check_layer(kind, settings)
                # The weight file names layers by class, numbered in the model's order.
                count = seen.get(kind, 0)
                seen[kind] = count + 1
                stored = f"layers/{_snake(kind)}" + (f"_{count}" if count else "")
                if kind == "LSTM":
                    stored += "/cell"
                group = weights.get(f"{stored}/vars")
                arrays = [] if group is None else [np.asarray(group[str(i)]) for i in range(len(group))]
                if kind in WEIGHTS and len(arrays) != WEIGHTS[kind][0 if settings.get("use_bias", True) else 1]:
                    raise Unsupported(f"{settings['name']}: {len(arrays)} weight arrays under {stored}")
                sources = [] if kind == "InputLayer" else _sources(entry.get("inbound_nodes", []))
                layers.append(Layer(settings["name"], kind, settings, sources, arrays))
    output = outputs[0]
    names = {layer.name for layer in layers}
    if output not in names or any(source not in names for layer in layers for source in layer.inputs):
        raise Unsupported("layers connected in a way this module does not read")
    if [layer.name for layer in layers if layer.kind == "InputLayer"] != inputs:
        raise Unsupported("input layers")
    return Network(layers, output)


def _names(entries) -> list[str]:
    """``input_layers``/``output_layers``: ``[name, 0, 0]`` for one, a list of those for several."""
    if not entries:
        return []
    if isinstance(entries[0], str):
        return [entries[0]]
    return [entry[0] for entry in entries]
