"""A Keras model's layer graph from its JSON config alone, for inspect and audit without Keras.

Each layer becomes a node named after the layer (the names `export` gives a
traced model's inputs and outputs), wired to the layers it is called on and
to its weights, so that `audit --outputs dense` keeps exactly the weights
upstream of that layer. Input layers are Placeholders with their dtype and
shape; other layers are Identity nodes that never run (the graph is not
traced, so no stage will execute it). Functional, Sequential and nested
models are read the same way, from Keras 2 and Keras 3 configs.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Node
from graphsurgeon.ir.model import Layer
from graphsurgeon.loaders.keras.model_layers import config_layers
from graphsurgeon.names import TensorRef
from graphsurgeon.tf.protos import pb, shape_proto

KERAS_CLASS_ATTR = "_keras_class"


@dataclass(frozen=True)
class LayerGraph:
    nodes: list[Node]
    inputs: tuple[str, ...]  # input layer names, as export names its inputs
    outputs: tuple[str, ...]  # output layer names, as export names its outputs
    layers: Mapping[str, Layer] = field(default_factory=dict)  # every layer, nested ones too (model_layers.py)


def layer_graph(config: Mapping[str, Any], weights_by_layer: Mapping[str, Sequence[str]]) -> LayerGraph | None:
    """The layer graph of a model config, or None when the config is not a model Keras describes as layers."""
    body = config.get("config")
    layers = body.get("layers") if isinstance(body, Mapping) else body
    if not isinstance(layers, list) or not layers:
        return None
    if config.get("class_name") == "Sequential":
        found = _sequential(layers, weights_by_layer)
    else:
        found = _functional(cast(Mapping[str, Any], body), layers, weights_by_layer)
    names = {node.name for node in found.nodes}
    return replace(found, layers=config_layers(config, names, [TensorRef(n) for n in found.inputs]))


def _sequential(layers: list[dict], weights_by_layer: Mapping[str, Sequence[str]]) -> LayerGraph:
    first = layers[0]
    if first.get("class_name") == "InputLayer":
        input_layer, rest = first, layers[1:]
    else:  # Keras names the implicit input after the first layer
        input_layer = {"class_name": "InputLayer", "config": {**first.get("config", {}),
                                                              "name": f"{_name(first)}_input"}}
        rest = layers
    nodes = [_input_node(input_layer)]
    previous = nodes[0].name
    for layer in rest:
        nodes.append(_layer_node(layer, [previous], weights_by_layer))
        previous = nodes[-1].name
    return LayerGraph(nodes, (nodes[0].name,), (previous,))


def _functional(body: Mapping[str, Any], layers: list[dict], weights_by_layer: Mapping[str, Sequence[str]]) -> LayerGraph:
    known = {_name(layer) for layer in layers}
    nodes = []
    for layer in layers:
        if layer.get("class_name") == "InputLayer":
            nodes.append(_input_node(layer))
        else:
            inbound = [n for n in _inbound_layers(layer.get("inbound_nodes", [])) if n in known]
            nodes.append(_layer_node(layer, inbound, weights_by_layer))
    inputs = tuple(_history_names(body.get("input_layers", [])))
    outputs = tuple(_history_names(body.get("output_layers", [])))
    return LayerGraph(nodes, inputs, outputs)


def _name(layer: Mapping[str, Any]) -> str:
    return str(layer.get("name") or layer.get("config", {}).get("name", ""))


def _input_node(layer: Mapping[str, Any]) -> Node:
    config = layer.get("config", {})
    shape = config.get("batch_input_shape") or config.get("batch_shape")
    dtype = config.get("dtype") if isinstance(config.get("dtype"), str) else "float32"
    attr = pb.attr_value_pb2.AttrValue
    attrs = {"dtype": attr(type=_enum(dtype)), KERAS_CLASS_ATTR: attr(s=b"InputLayer")}
    if isinstance(shape, list):
        attrs["shape"] = attr(shape=shape_proto(tuple(-1 if d is None else int(d) for d in shape)))
    return Node(_name(layer) or str(config.get("name")), "Placeholder", attrs=attrs)


def _layer_node(layer: Mapping[str, Any], inbound: list[str], weights_by_layer: Mapping[str, Sequence[str]]) -> Node:
    name = _name(layer)
    inputs = tuple(TensorRef(n) for n in dict.fromkeys([*inbound, *weights_by_layer.get(name, ())]))
    attr = pb.attr_value_pb2.AttrValue
    attrs = {"T": attr(type=dt.enum_of("float32")), KERAS_CLASS_ATTR: attr(s=str(layer.get("class_name")).encode())}
    return Node(name, "Identity", inputs, attrs=attrs)


def _enum(dtype: str) -> int:
    try:
        return dt.enum_of(dtype)
    except TypeError:
        return dt.enum_of("float32")


def _inbound_layers(inbound: Any) -> Iterator[str]:
    """Layer names a layer is called on: Keras 2 lists [name, node, tensor, kwargs];
    Keras 3 wraps each in {"config": {"keras_history": [name, node, tensor]}}. Iterative."""
    stack = [inbound]
    while stack:
        item = stack.pop(0)
        if isinstance(item, Mapping):
            if isinstance(item.get("keras_history"), list):
                yield str(item["keras_history"][0])
            else:
                stack.extend(item.values())
        elif isinstance(item, list):
            if len(item) >= 3 and isinstance(item[0], str) and isinstance(item[1], int):
                yield item[0]
            else:
                stack.extend(item)


def _history_names(entries: Any) -> Iterator[str]:
    """input_layers/output_layers: [[name, 0, 0], ...], or one [name, 0, 0] in Keras 3 single-tensor models."""
    if isinstance(entries, list) and len(entries) == 3 and isinstance(entries[0], str):
        entries = [entries]
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, list) and entry and isinstance(entry[0], str):
            yield entry[0]
