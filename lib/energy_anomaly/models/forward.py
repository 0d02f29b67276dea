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
from collections.abc import Callable
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
    """Stride 1, dilation 1, channels last, ``same`` or ``valid`` padding:
    (n, length, in) -> (n, length', out)."""
    width = kernel.shape[0]
    if padding == "same":
        left = (width - 1) // 2
        x = np.pad(x, ((0, 0), (left, width - 1 - left), (0, 0)))
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


# How many weight arrays a layer saves: with its bias, without.
WEIGHTS = {"Dense": (2, 1), "Conv1D": (2, 1), "LSTM": (3, 2)}


def operation(kind: str, config: dict, weights: list[np.ndarray]) -> Callable[..., np.ndarray]:
    """What a layer computes, from its saved settings and weights: read once, at load.
    ``Unsupported`` for a layer or setting this module would compute differently from Keras."""
    if kind in ("InputLayer", "Dropout"):  # Dropout is inactive when not training
        return lambda x: x
    if kind == "Add":
        return lambda *xs: sum(xs[1:], xs[0])
    if kind == "GlobalAveragePooling1D":
        if config.get("keepdims") or config.get("data_format", "channels_last") != "channels_last":
            raise Unsupported("GlobalAveragePooling1D keeping dimensions or channels first")
        return lambda x: x.mean(axis=1)
    if kind == "UpSampling1D":
        repeats = _single(config["size"], "UpSampling1D size")
        return lambda x: np.repeat(x, repeats, axis=1)
    if kind == "MaxPooling1D":
        size = _single(config["pool_size"], "MaxPooling1D pool size")
        strides = config.get("strides")
        if config.get("padding") != "valid" or (strides is not None and _single(strides, "strides") != size):
            raise Unsupported("MaxPooling1D other than valid, strides = pool size")
        return lambda x: max_pool1d(x, size)
    if kind == "Dense":
        activation = _activation(config["activation"])
        kernel, bias = weights[0], weights[1] if config.get("use_bias", True) else None
        return lambda x: activation(dense(x, kernel, bias))
    if kind == "Conv1D":
        activation = _activation(config["activation"])
        padding = config.get("padding")
        plain = (
            _single(config.get("strides", 1), "strides") == 1
            and _single(config.get("dilation_rate", 1), "dilation") == 1
            and config.get("groups", 1) == 1
            and config.get("data_format", "channels_last") == "channels_last"
            and padding in ("same", "valid")
        )
        if not plain:
            raise Unsupported("Conv1D other than stride 1, dilation 1, one group, channels last")
        kernel, bias = weights[0], weights[1] if config.get("use_bias", True) else None
        return lambda x: activation(conv1d(x, kernel, bias, padding))
    if kind == "LSTM":
        activation, gate = _activation(config["activation"]), _activation(config["recurrent_activation"])
        if config.get("return_sequences") or config.get("return_state") or config.get("go_backwards"):
            raise Unsupported("LSTM returning sequences or states, or going backwards")
        if config.get("stateful"):
            raise Unsupported("stateful LSTM")
        kernel, recurrent, bias = weights[0], weights[1], weights[2] if config.get("use_bias", True) else None
        return lambda x: lstm(x, kernel, recurrent, bias, activation, gate)
    raise Unsupported(f"layer {kind}")


@dataclass
class Layer:
    name: str
    inputs: list[str]  # the names of the layers whose outputs it takes; none: the model's input
    run: Callable[..., np.ndarray]


def _snake(kind: str) -> str:
    """Keras' weight-file name of a layer class (``keras.src.utils.naming.to_snake_case``, written
    out here: importing Keras is what this module avoids): ``MaxPooling1D`` -> ``max_pooling1d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", kind)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _sources(node) -> list[str]:
    """The layer names a node's arguments come from (``keras_history``), in order."""
    if isinstance(node, dict):
        if node.get("class_name") == "__keras_tensor__":
            return [node["config"]["keras_history"][0]]
        return [name for value in node.values() for name in _sources(value)]
    if isinstance(node, list):
        return [name for value in node for name in _sources(value)]
    return []


def _in_order(layers: list[Layer]) -> list[Layer]:
    """The layers in an order that computes each one after the layers it takes from."""
    ordered: list[Layer] = []
    done: set[str] = set()
    pending = list(layers)
    while pending:
        ready = [layer for layer in pending if all(name in done for name in layer.inputs)]
        if not ready:
            raise Unsupported("layers connected in a cycle, or to layers the file does not hold")
        ordered += ready
        done.update(layer.name for layer in ready)
        pending = [layer for layer in pending if layer.name not in done]
    return ordered


@dataclass
class Network:
    """A functional Keras model's layers, in the order they are computed."""

    layers: list[Layer]
    output: str

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The outputs of ``x``'s rows, computed ``BLOCK_ROWS`` at a time (an empty ``x`` gives
        an empty output)."""
        x = x.astype(np.float32, copy=False)
        blocks = []
        for i in range(0, max(len(x), 1), BLOCK_ROWS):
            block = x[i : i + BLOCK_ROWS]
            if len(block) < BLOCK_ROWS:
                block = np.concatenate([block, np.zeros((BLOCK_ROWS - len(block), *x.shape[1:]), np.float32)])
            blocks.append(self._forward(block))
        return np.concatenate(blocks)[: len(x)]

    def _forward(self, x: np.ndarray) -> np.ndarray:
        values: dict[str, np.ndarray] = {}
        for layer in self.layers:
            values[layer.name] = layer.run(*[values[name] for name in layer.inputs]) if layer.inputs else layer.run(x)
        return values[self.output]


def load(path: str | Path) -> Network:
    """The network of a ``.keras`` file; ``Unsupported`` if it has a layer this module lacks."""
    import h5py

    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        model = config["config"]
        inputs, outputs = _names(model.get("input_layers")), _names(model.get("output_layers"))
        if config.get("class_name") != "Functional" or len(inputs) != 1 or len(outputs) != 1:
            raise Unsupported("not a functional model with one input and one output")
        layers, seen = [], {}
        with archive.open("model.weights.h5") as raw, h5py.File(raw, "r") as weights:
            for entry in model["layers"]:
                kind, settings = entry["class_name"], entry["config"]
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
                layers.append(Layer(settings["name"], sources, operation(kind, settings, arrays)))
    if [layer.name for layer in layers if not layer.inputs] != inputs:
        raise Unsupported("input layers")
    if outputs[0] not in {layer.name for layer in layers}:
        raise Unsupported("output layer")
    return Network(_in_order(layers), outputs[0])


def _names(entries) -> list[str]:
    """``input_layers``/``output_layers``: ``[name, 0, 0]`` for one, a list of those for several."""
    if not entries:
        return []
    if isinstance(entries[0], str):
        return [entries[0]]
    return [entry[0] for entry in entries]
