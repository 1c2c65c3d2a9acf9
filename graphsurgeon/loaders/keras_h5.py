"""Keras .h5 files read with h5py alone: version, backend, layers and their weights, lazily.

No Keras is imported and nothing in the file is deserialized or executed (a
Lambda layer's marshalled bytecode stays bytes). The result serves inspect and
audit: every weight is a variable node whose bytes are read from its HDF5
dataset only on request. Tracing the Keras graph (for cut and export) needs
the Keras loader, which this module does not do.
"""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from graphsurgeon import _tf
from graphsurgeon.dtypes import BY_NAME
from graphsurgeon.errors import LoadError
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model, Source
from graphsurgeon.ir.weights import WeightInfo, WeightStore, numeric_nbytes

OPTIMIZER_SCOPE = "optimizer_weights"


class H5Source:
    """Reads one dataset of an HDF5 file per call, opening the file only then."""

    def __init__(self, path: str):
        self.path = path

    def read(self, key: str) -> np.ndarray:
        with h5py.File(self.path, "r") as f:
            return f[key][()]


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def load_keras_h5(path: Path) -> Model:
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise LoadError(f"{path} is not a readable HDF5 file ({err}); it may be truncated") from err
    with f:
        weights_root = f["model_weights"] if "model_weights" in f else f
        if "layer_names" not in weights_root.attrs:
            raise LoadError(f"{path} has no Keras layer list (layer_names); it is not a Keras .h5 model or weights file")
        details = {"keras_version": _text(f.attrs.get("keras_version", "unknown")),
                   "backend": _text(f.attrs.get("backend", "unknown")),
                   "model_class": _model_class(f)}
        nodes, entries = [], {}
        source = H5Source(str(path))
        for layer in (_text(n) for n in weights_root.attrs["layer_names"]):
            for weight in (_text(w) for w in weights_root[layer].attrs.get("weight_names", [])):
                dataset = weights_root[layer][weight]
                name = _node_name(layer, weight)
                _add(nodes, entries, name, dataset, source)
        if "optimizer_weights" in f:
            f["optimizer_weights"].visititems(
                lambda key, item: _add(nodes, entries, f"{OPTIMIZER_SCOPE}/{key.removesuffix(':0')}", item, source)
                if isinstance(item, h5py.Dataset) else None)
    return Model(graph=Graph(nodes), weights=WeightStore(entries),
                 source=Source(str(path), "keras_h5", traced=False, details=details))


def _model_class(f) -> str:
    config = f.attrs.get("model_config")
    if config is None:
        return "weights only"
    try:
        return json.loads(_text(config)).get("class_name", "unknown")
    except json.JSONDecodeError:
        return "unknown"


def _node_name(layer: str, weight: str) -> str:
    """Keras 2 names weights 'layer/kernel:0'; Keras 1 names them 'layer_W'. Both become 'layer/...'."""
    name = weight.removesuffix(":0")
    return name if name.startswith(layer + "/") else f"{layer}/{name}"


def _add(nodes: list, entries: dict, name: str, dataset, source: H5Source) -> None:
    dtype = BY_NAME.get(dataset.dtype.name)
    if dtype is None:
        return  # strings and other non-tensor data are not weights
    shape = tuple(int(d) for d in dataset.shape)
    attr = _tf.pb.attr_value_pb2.AttrValue
    nodes.append(Node(name, "VariableV2", attrs={"dtype": attr(type=dtype), "shape": attr(shape=_tf.shape_proto(shape))}))
    entries[name] = (WeightInfo(dataset.name, dtype, shape, numeric_nbytes(dtype, shape)), source)
