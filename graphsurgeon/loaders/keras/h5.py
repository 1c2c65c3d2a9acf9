"""Keras .h5 files: metadata from the HDF5 reader alone, or the traced inference graph via tf_keras.

Metadata (load_keras_h5(..., trace=False)) imports no Keras and deserializes
nothing: every weight is a variable node whose bytes are read from its HDF5
dataset on request; inspect and audit use this. Every read goes through
formats/hdf5.py, which bounds its time (a damaged file can make HDF5 loop).
Tracing loads the model with tf_keras, traces it with training=False (batch
norm and dropout in inference mode) and freezes the trace. Before any Keras
code touches the file, its JSON config is scanned by keras.safety (anything
carrying code, or naming classes that are neither Keras's nor
--custom-objects', is refused) and Keras 1 configs are refused, so no code
from the file runs. A damaged file is one LoadError.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from graphsurgeon.errors import LoadError, first_line
from graphsurgeon.formats.dtypes import BY_NAME
from graphsurgeon.formats.hdf5 import Dataset, HDF5File, Listing, join
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model, Source
from graphsurgeon.ir.proto import graph_from_proto
from graphsurgeon.ir.weights import WeightInfo, WeightStore, numeric_nbytes
from graphsurgeon.loaders.keras.layers import LayerGraph, layer_graph
from graphsurgeon.loaders.keras.model_layers import traced_layers
from graphsurgeon.loaders.keras.replace import replace_layers
from graphsurgeon.loaders.keras.safety import check_config
from graphsurgeon.names import TensorRef
from graphsurgeon.tf import runtime
from graphsurgeon.tf.keras_trace import UNSAFE_CODE_FAILED, code_failure_reason, failing_layer
from graphsurgeon.tf.layer_calls import LayerCalls
from graphsurgeon.tf.protos import pb, shape_proto

OPTIMIZER_SCOPE = "optimizer_weights"
log = logging.getLogger(__name__)


class H5Source:
    """Reads one dataset of an HDF5 file per call, through the bounded reader (formats/hdf5.py)."""

    def __init__(self, path: str):
        self.file = HDF5File(path)

    def read(self, key: str) -> np.ndarray:
        return self.file.read(key)


def _text(value: object) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _names(value: object, what: str, path: Path) -> list[str]:
    """A list-of-names attribute (layer_names, weight_names) as text; a damaged one is a LoadError."""
    if isinstance(value, np.ndarray) and value.size == 0:
        return []  # h5py stores an empty list as an empty float64 array
    if isinstance(value, list) and all(isinstance(v, (bytes, str)) for v in value):
        try:  # h5py decodes a stored str with surrogateescape: a name that is not UTF-8 is damage too
            return [_text(v).encode("utf-8").decode("utf-8") for v in value]
        except UnicodeError:
            pass
    raise LoadError(f"{path} is a damaged HDF5 file (the {what} attribute is not a list of UTF-8 names); "
                    "re-save or re-download it")


def load_keras_h5(path: Path, trace: bool = True, architecture: str | None = None,
                  unsafe_lambda: bool = False, custom_objects: dict | None = None,
                  replacements: Mapping[str, Callable] | None = None) -> Model:
    """``replacements`` maps layer names to functions that stand in for them (see loaders/keras/replace.py)."""
    metadata = _metadata_model(path)
    if not trace:
        return metadata
    config = None
    if replacements:
        config, stand_ins = replace_layers(_config(path, architecture) or {}, replacements)
        custom_objects = {**(custom_objects or {}), **stand_ins}
    _refuse_unsafe(path, architecture, unsafe_lambda, sorted(custom_objects or {}), config)
    return _traced(path, metadata, architecture, custom_objects or {}, config, unsafe_lambda)


# What Keras raises reading a damaged file itself: the HDF5 library's errors surface under all of these names.
H5_ERRORS = (OSError, KeyError, RuntimeError, ValueError, TypeError, IndexError, UnicodeError)


def _metadata_model(path: Path) -> Model:
    listing = HDF5File(path).listing()
    root, layers_weights = layer_weight_names(listing, path)
    details = {"keras_version": _text(listing.attr("", "keras_version", "unknown")),
               "backend": _text(listing.attr("", "backend", "unknown")),
               "model_class": _model_class(listing.attr("", "model_config"))}
    nodes: list[Node] = []
    found: dict[str, tuple[str, Dataset]] = {}  # node name -> (dataset path, dataset)
    weights_by_layer: dict[str, list[str]] = {}
    for layer, weights in layers_weights.items():
        group = join(root, layer)
        for weight in weights:
            dataset = listing.dataset(join(group, weight))
            if dataset is None:
                raise LoadError(f"{path}: weight {layer}/{weight} is not an HDF5 dataset; the file is "
                                "damaged: re-save or re-download it")
            name = _node_name(layer, weight)
            if _add(nodes, found, name, join(group, weight), dataset):
                weights_by_layer.setdefault(layer, []).append(name)
    for key in [k for k in listing.datasets if k.startswith(OPTIMIZER_SCOPE + "/")]:
        _add(nodes, found, key.removesuffix(":0"), key, listing.datasets[key])
    layers = _layer_graph(listing.attr("", "model_config"), weights_by_layer)
    source = H5Source(str(path))
    entries = {name: (_weight_info(key, dataset), source) for name, (key, dataset) in found.items()}
    model = Model(graph=Graph(nodes), weights=WeightStore(entries),
                  source=Source(str(path), "keras_h5", traced=False, details=details))
    if layers is None:
        return model
    return model.replace(graph=Graph([*nodes, *layers.nodes]), inputs=tuple(TensorRef(n) for n in layers.inputs),
                         outputs=tuple(TensorRef(n) for n in layers.outputs), layers=layers.layers)


def layer_weight_names(listing: Listing, path: Path) -> tuple[str, dict[str, list[str]]]:
    """The group holding the weights, and each layer's weight names (its layer_names and weight_names attributes)."""
    root = "model_weights" if listing.is_group("model_weights") else ""
    if listing.attr(root, "layer_names") is None:
        raise LoadError(f"{path} has no Keras layer list (layer_names); it is not a Keras .h5 model or weights file")
    found: dict[str, list[str]] = {}
    for layer in _names(listing.attr(root, "layer_names"), "layer_names", path):
        if not listing.is_group(join(root, layer)):
            raise LoadError(f"{path}: layer {layer!r} is not an HDF5 group; the file is damaged: re-save or "
                            "re-download it")
        found[layer] = _names(listing.attr(join(root, layer), "weight_names", []), f"weight_names of layer {layer!r}",
                              path)
    return root, found


def _layer_graph(raw_config: object, weights_by_layer: dict[str, list[str]]) -> LayerGraph | None:
    """The layers as nodes named as export names them, when the file has a readable model config."""
    try:
        config = json.loads(_text(raw_config)) if raw_config is not None else None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(config, dict):
        return None
    try:
        return layer_graph(config, weights_by_layer)
    # A config of unexpected shape (hand-edited, damaged) gets no layer view; loading it
    # for export goes through keras.safety and Keras, which name what is wrong.
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as err:
        log.debug("no layer graph from the model config: %s", err)
        return None


def _model_class(raw_config: object) -> str:
    if raw_config is None:
        return "weights only"
    try:
        parsed = json.loads(_text(raw_config))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return "unknown"
    return str(parsed.get("class_name", "unknown")) if isinstance(parsed, dict) else "unknown"


def _node_name(layer: str, weight: str) -> str:
    """Keras 2 names weights 'layer/kernel:0'; Keras 1 names them 'layer_W'. Both become 'layer/...'."""
    name = weight.removesuffix(":0")
    return name if name.startswith(layer + "/") else f"{layer}/{name}"


def _add(nodes: list[Node], found: dict[str, tuple[str, Dataset]], name: str, key: str, dataset: Dataset) -> bool:
    """A variable node for a numeric dataset (strings and other non-tensor data are not weights)."""
    dtype = BY_NAME.get(dataset.dtype.name)
    if dtype is None:
        return False
    attr = pb.attr_value_pb2.AttrValue
    nodes.append(Node(name, "VariableV2", attrs={"dtype": attr(type=dtype),
                                                 "shape": attr(shape=shape_proto(dataset.shape))}))
    found[name] = (key, dataset)
    return True


def _weight_info(key: str, dataset: Dataset) -> WeightInfo:
    dtype = BY_NAME[dataset.dtype.name]
    return WeightInfo(f"/{key}", dtype, dataset.shape, numeric_nbytes(dtype, dataset.shape))


def _config(path: Path, architecture: str | None) -> dict | None:
    """The model's JSON config: from --architecture, else the file's model_config attribute (None: weights only)."""
    if architecture is not None:
        try:
            return _parsed(Path(architecture).read_bytes(), f"--architecture {architecture}")
        except OSError as err:
            raise LoadError(f"cannot read --architecture {architecture}: {err.strerror or err}; "
                            "give the model's JSON (model.to_json())") from err
    raw = HDF5File(path).listing().attr("", "model_config")
    return _parsed(raw, f"{path} (its model_config attribute)") if raw is not None else None


def _parsed(raw: object, what: str) -> dict:
    try:
        text = raw.tobytes() if isinstance(raw, np.ndarray) else raw
        config = json.loads(text if isinstance(text, (str, bytes)) else str(text))
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError, ValueError) as err:
        raise LoadError(f"{what} is not valid JSON ({err}); re-save the model with Keras") from err
    except RecursionError as err:
        raise LoadError(f"{what} nests too deeply to be a Keras config; re-save the model with Keras") from err
    if not isinstance(config, dict) or "class_name" not in config:
        raise LoadError(f"{what} is not a Keras model config (no class_name); re-save the model with Keras")
    return config


def _layers(config: Any) -> list[dict]:
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


def layer_dicts(config: Any) -> list[dict]:
    """Every layer dict in a (possibly nested) Keras config (the .h5 and .keras loaders share it)."""
    return _layers(config)


def refuse_lambdas(config: dict, path: Path, unsafe_lambda: bool, supplied: Collection[str] = ()) -> None:
    """A Lambda layer's stored function (bytecode or source) would run when Keras loads it: refuse by name.

    A Lambda whose function is a name in ``supplied`` (the custom objects, where
    --replace-layer puts the user's functions) carries no code from the file.
    """
    lambdas = [layer["config"].get("name", "?") for layer in _layers(config) if layer["class_name"] == "Lambda"
               and not (isinstance(layer["config"].get("function"), str) and layer["config"]["function"] in supplied)]
    if lambdas and not unsafe_lambda:
        raise LoadError(
            f"{path}: layer {lambdas[0]!r} is a Lambda layer whose function is stored as Python bytecode; loading it "
            f"would run code from the file. Supply the function yourself with --replace-layer {lambdas[0]}="
            "module.py:function, or pass --unsafe-lambda only if you trust the file's author"
        )


def _refuse_unsafe(path: Path, architecture: str | None, unsafe_lambda: bool, custom_names: Collection[str],
                   rewritten: dict | None = None) -> None:
    """``rewritten``: the config after --replace-layer, whose replaced layers name the user's functions."""
    config = rewritten or _config(path, architecture)
    if config is None:
        raise LoadError(f"{path} holds weights only; give the architecture with --architecture model.json")
    source = str(path) if architecture is None else f"--architecture {architecture}"
    check_config(config, source, allow_code=unsafe_lambda, custom_names=custom_names)
    version = _text(HDF5File(path).listing().attr("", "keras_version", ""))
    if version.startswith("1."):
        unknown: dict[str, Any] = {"class_name": "?", "config": {}}
        first = next((layer for layer in _layers(config)), unknown)
        raise LoadError(
            f"{path} was saved by Keras {version}, whose layer configs (e.g. {first['class_name']} "
            f"{first['config'].get('name', '?')!r}) current Keras cannot read; re-save it with Keras 2 "
            "(load it in Keras 1 and save the weights, then rebuild the model in Keras 2)"
        )


def _traced(path: Path, metadata: Model, architecture: str | None, custom_objects: dict,
            config: dict | None, unsafe_lambda: bool) -> Model:
    """``config``: a rewritten model config to build instead of the file's (weights still come from the file).

    tf_keras reads the file itself, with h5py in this process: the bounded reader reads all of it first, so
    Keras meets no attribute or dataset that was not already read in time.
    """
    HDF5File(path).read_everything()
    try:
        trace = runtime.trace_keras(str(path), architecture, custom_objects,
                                    json.dumps(config) if config is not None else None)
    except ModuleNotFoundError as err:
        if err.name != "tf_keras":
            raise
        # Not a dependency: each tf_keras release requires its own TensorFlow minor, and installing one would
        # replace the user's TensorFlow.
        minor = ".".join(runtime.tensorflow_version().split(".")[:2])
        raise LoadError(f"{path}: Keras 2 .h5 files are traced with tf_keras, which is not installed; install the "
                        f"release matching your TensorFlow {minor}: pip install 'tf_keras=={minor}.*'") from err
    # Keras reads the file itself: a damaged file surfaces as any of h5py's errors, or as a
    # TensorFlow error or a failed assert inside Keras.
    except (*H5_ERRORS, AssertionError, runtime.checkpoint_read_error()) as err:
        fix = ("if it names a custom layer or function, supply it with --custom-objects module.py"
               if isinstance(err, (ValueError, TypeError)) else "the file may be damaged: re-save or re-download it")
        raise LoadError(f"{path}: Keras could not rebuild the model ({type(err).__name__}: {first_line(err)}); "
                        f"{fix}") from err
    except Exception as err:
        layer = failing_layer(err) if unsafe_lambda else ""
        if not layer:
            raise
        raise LoadError(f"{path}: Keras could not rebuild the model: layer {layer!r}: {code_failure_reason(err)}; "
                        f"{UNSAFE_CODE_FAILED.format(layer=layer)}") from err
    graph, records = _unreturned(graph_from_proto(trace.graph_def, str(path)), trace.layers)
    aliases = []
    for layer, tensor in trace.outputs:
        name = layer if layer not in graph else f"{layer}_output"
        dtype = pb.attr_value_pb2.AttrValue(type=graph[tensor.split(":")[0]].attrs["T"].type
                                                if "T" in graph[tensor.split(":")[0]].attrs else 1)
        aliases.append(Node(name, "Identity", (TensorRef.parse(tensor),), attrs={"T": dtype}))
    inputs = tuple(TensorRef(n) for n in trace.inputs)
    graph, layers = traced_layers(graph.with_nodes([*_lazy(graph, trace.constants, metadata), *aliases]), records,
                                  inputs)
    source = Source(str(path), "keras_h5", details=metadata.source.details)
    return Model(graph=graph, weights=metadata.weights, source=source, inputs=inputs,
                 outputs=tuple(TensorRef(a.name) for a in aliases), layers=layers)


def _unreturned(graph: Graph, records: list[LayerCalls]) -> tuple[Graph, list[LayerCalls]]:
    """The traced function returned the layers' tensors so that freezing kept them: its Identity for each is
    dropped, and the records name the tensor it returned (the loader gives that a layer's name instead)."""
    returned = {TensorRef.parse(name).node for record in records for name, _ in _tensors(record)}
    behind = {name: graph[name].inputs[0] for name in returned}

    def looked_through(tensor: tuple[str, int]) -> tuple[str, int]:
        return str(behind[TensorRef.parse(tensor[0]).node]), tensor[1]

    kept = Graph([node for node in graph if node.name not in returned], graph.library, graph.versions)
    return kept, [dataclasses.replace(
        record, calls=tuple(tuple(looked_through(t) for t in call) for call in record.calls),
        masks=tuple(None if mask is None else looked_through(mask) for mask in record.masks)) for record in records]


def _tensors(record: LayerCalls) -> Iterator[tuple[str, int]]:
    yield from (tensor for call in record.calls for tensor in call)
    yield from (mask for mask in record.masks if mask is not None)


def _lazy(graph: Graph, constants: dict[str, str], metadata: Model) -> list[Node]:
    """Frozen weights become lazy constants read from their HDF5 datasets when written out."""
    nodes = []
    for node in graph:
        key = constants.get(node.name)
        if node.op == "Const" and key is not None and key in metadata.weights and \
                tuple(d.size for d in node.attrs["value"].tensor.tensor_shape.dim) == metadata.weights[key].shape:
            node = node.replace(attrs={"dtype": node.attrs["dtype"]}, weight=key)
        nodes.append(node)
    return nodes


def custom_objects_from(module_path: str | None) -> dict:
    """Classes and functions a user module defines, for Keras to resolve custom layers by name."""
    if module_path is None:
        return {}
    import importlib.util

    if not Path(module_path).is_file():
        raise LoadError(f"--custom-objects {module_path}: no such file; give the Python file that defines "
                        "the model's custom layers")
    spec = importlib.util.spec_from_file_location("graphsurgeon_custom_objects", module_path)
    if spec is None or spec.loader is None:
        raise LoadError(f"cannot import --custom-objects {module_path}: give a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        with runtime.quiet_native_logs():  # the module may import keras, and with it TensorFlow's C++ start-up lines
            spec.loader.exec_module(module)
    except Exception as err:  # the user's own module: whatever it raises, report it as theirs
        where = f" (line {err.lineno})" if isinstance(err, SyntaxError) else ""
        raise LoadError(f"--custom-objects {module_path} failed to import{where}: {type(err).__name__}: "
                        f"{first_line(err)}; fix that module") from err
    return {name: value for name, value in vars(module).items() if not name.startswith("_") and callable(value)}
