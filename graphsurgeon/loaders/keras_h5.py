"""Keras .h5 files: metadata with h5py alone, or the traced inference graph via tf_keras.

Metadata (load_keras_h5(..., trace=False)) imports no Keras and deserializes
nothing: every weight is a variable node whose bytes are read from its HDF5
dataset on request; inspect and audit use this. Tracing loads the model with
tf_keras, traces it with training=False (batch norm and dropout in inference
mode) and freezes the trace. Before any Keras code touches the file, Lambda
layers with marshalled bytecode and Keras 1 configs are refused by reading the
JSON config only, so no code from the file runs.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import h5py
import numpy as np

from graphsurgeon import _tf
from graphsurgeon.dtypes import BY_NAME
from graphsurgeon.errors import LoadError
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model, Source
from graphsurgeon.ir.proto import graph_from_proto
from graphsurgeon.ir.weights import WeightInfo, WeightStore, numeric_nbytes
from graphsurgeon.loaders.keras_layers import LayerGraph, layer_graph
from graphsurgeon.loaders.keras_replace import REGISTERED_PREFIX, replace_layers
from graphsurgeon.names import TensorRef
from graphsurgeon.protos import pb, shape_proto

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


def load_keras_h5(path: Path, trace: bool = True, architecture: str | None = None,
                  unsafe_lambda: bool = False, custom_objects: dict | None = None,
                  replacements: Mapping[str, Callable] | None = None) -> Model:
    """``replacements`` maps layer names to functions that stand in for them (see keras_replace.py)."""
    metadata = _metadata_model(path)
    if not trace:
        return metadata
    config = None
    if replacements:
        config, stand_ins = replace_layers(_config(path, architecture) or {}, replacements)
        custom_objects = {**(custom_objects or {}), **stand_ins}
    _refuse_unsafe(path, architecture, unsafe_lambda, config)
    return _traced(path, metadata, architecture, custom_objects or {}, config)


def _metadata_model(path: Path) -> Model:
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
        weights_by_layer: dict[str, list[str]] = {}
        for layer in (_text(n) for n in weights_root.attrs["layer_names"]):
            for weight in (_text(w) for w in weights_root[layer].attrs.get("weight_names", [])):
                dataset = weights_root[layer][weight]
                name = _node_name(layer, weight)
                _add(nodes, entries, name, dataset, source)
                if name in entries:
                    weights_by_layer.setdefault(layer, []).append(name)
        layers = _layer_graph(f, weights_by_layer)
        if "optimizer_weights" in f:
            f["optimizer_weights"].visititems(
                lambda key, item: _add(nodes, entries, f"{OPTIMIZER_SCOPE}/{key.removesuffix(':0')}", item, source)
                if isinstance(item, h5py.Dataset) else None)
    if layers is None:
        return Model(graph=Graph(nodes), weights=WeightStore(entries),
                     source=Source(str(path), "keras_h5", traced=False, details=details))
    return Model(graph=Graph([*nodes, *layers.nodes]), weights=WeightStore(entries),
                 source=Source(str(path), "keras_h5", traced=False, details=details),
                 inputs=tuple(TensorRef(n) for n in layers.inputs), outputs=tuple(TensorRef(n) for n in layers.outputs))


def _layer_graph(f, weights_by_layer: dict[str, list[str]]) -> LayerGraph | None:
    """The layers as nodes named as export names them, when the file has a readable model config."""
    raw = f.attrs.get("model_config")
    try:
        config = json.loads(_text(raw)) if raw is not None else None
    except json.JSONDecodeError:
        return None
    return layer_graph(config, weights_by_layer) if isinstance(config, dict) else None


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
    attr = pb.attr_value_pb2.AttrValue
    nodes.append(Node(name, "VariableV2", attrs={"dtype": attr(type=dtype), "shape": attr(shape=shape_proto(shape))}))
    entries[name] = (WeightInfo(dataset.name, dtype, shape, numeric_nbytes(dtype, shape)), source)


def _config(path: Path, architecture: str | None) -> dict | None:
    if architecture is not None:
        return json.loads(Path(architecture).read_text())
    with h5py.File(path, "r") as f:
        raw = f.attrs.get("model_config")
    return json.loads(_text(raw)) if raw is not None else None


def _layers(config) -> list[dict]:
    """Every layer dict in a (possibly nested) Keras config, iteratively."""
    found, stack = [], [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "class_name" in item and isinstance(item.get("config"), dict):
                found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _refuse_unsafe(path: Path, architecture: str | None, unsafe_lambda: bool, rewritten: dict | None) -> None:
    """``rewritten``: the config after --replace-layer, whose replaced Lambdas hold no bytecode any more."""
    config = rewritten or _config(path, architecture)
    if not config:
        raise LoadError(f"{path} holds weights only; give the architecture with --architecture model.json")
    lambdas = [layer["config"].get("name", "?") for layer in _layers(config) if layer["class_name"] == "Lambda"
               and not str(layer["config"].get("function", "")).startswith(REGISTERED_PREFIX)]
    if lambdas and not unsafe_lambda:
        raise LoadError(
            f"{path}: layer {lambdas[0]!r} is a Lambda layer whose function is stored as Python bytecode; loading it "
            f"would run code from the file. Supply the function yourself with --replace-layer {lambdas[0]}="
            "module.py:function, or pass --unsafe-lambda only if you trust the file's author"
        )
    with h5py.File(path, "r") as f:
        version = _text(f.attrs.get("keras_version", ""))
    if version.startswith("1."):
        first = next((layer for layer in _layers(config)), {"class_name": "?", "config": {}})
        raise LoadError(
            f"{path} was saved by Keras {version}, whose layer configs (e.g. {first['class_name']} "
            f"{first['config'].get('name', '?')!r}) current Keras cannot read; re-save it with Keras 2 "
            "(load it in Keras 1 and save the weights, then rebuild the model in Keras 2)"
        )


def _traced(path: Path, metadata: Model, architecture: str | None, custom_objects: dict,
            config: dict | None) -> Model:
    """``config``: a rewritten model config to build instead of the file's (weights still come from the file)."""
    try:
        graph_def, input_names, outputs, constants = _tf.trace_keras(
            str(path), architecture, custom_objects, json.dumps(config) if config is not None else None)
    except ModuleNotFoundError as err:
        if err.name != "tf_keras":
            raise
        # Not a dependency: each tf_keras release requires its own TensorFlow minor, and installing one would
        # replace the user's TensorFlow.
        minor = ".".join(_tf.tensorflow_version().split(".")[:2])
        raise LoadError(f"{path}: Keras 2 .h5 files are traced with tf_keras, which is not installed; install the "
                        f"release matching your TensorFlow {minor}: pip install 'tf_keras=={minor}.*'") from err
    except (ValueError, TypeError) as err:
        message = str(err).strip().splitlines()[0]
        raise LoadError(f"{path}: Keras could not rebuild the model: {message}; if it names a custom layer or "
                        "function, supply it with --custom-objects module.py") from err
    graph = graph_from_proto(graph_def, str(path))
    aliases = []
    for layer, tensor in outputs:
        name = layer if layer not in graph else f"{layer}_output"
        dtype = pb.attr_value_pb2.AttrValue(type=graph[tensor.split(":")[0]].attrs["T"].type
                                                if "T" in graph[tensor.split(":")[0]].attrs else 1)
        aliases.append(Node(name, "Identity", (TensorRef.parse(tensor),), attrs={"T": dtype}))
    graph = graph.with_nodes([*_lazy(graph, constants, metadata), *aliases])
    source = Source(str(path), "keras_h5", details=metadata.source.details)
    return Model(graph=graph, weights=metadata.weights, source=source,
                 inputs=tuple(TensorRef(n) for n in input_names), outputs=tuple(TensorRef(a.name) for a in aliases))


def _lazy(graph: Graph, constants: dict[str, str], metadata: Model) -> list[Node]:
    """Frozen weights become lazy constants read from their HDF5 datasets when written out."""
    nodes = []
    for node in graph:
        key = constants.get(node.name)
        if node.op == "Const" and key in metadata.weights and \
                tuple(d.size for d in node.attrs["value"].tensor.tensor_shape.dim) == metadata.weights[key].shape:
            node = node.replace(attrs={"dtype": node.attrs["dtype"]}, weight=key)
        nodes.append(node)
    return nodes


def custom_objects_from(module_path: str | None) -> dict:
    """Classes and functions a user module defines, for Keras to resolve custom layers by name."""
    if module_path is None:
        return {}
    import importlib.util

    spec = importlib.util.spec_from_file_location("graphsurgeon_custom_objects", module_path)
    if spec is None or spec.loader is None:
        raise LoadError(f"cannot import --custom-objects {module_path}: give a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: value for name, value in vars(module).items() if not name.startswith("_") and callable(value)}
