"""What a graph's VariableDefs say about a variable's initial value, and restores run at init.

A TF-Hub module (tf.train.init_from_checkpoint) makes a variable's initial
value a RestoreV2 reading the module's checkpoint (checkpoint_initializer):
restore_on_init says which file and key.
"""
from __future__ import annotations

from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import RESTORE_OPS
from graphsurgeon.names import TensorRef
from graphsurgeon.tf.protos import pb

VARIABLE_COLLECTIONS = ("variables", "local_variables", "trainable_variables", "model_variables")


def restore_on_init(graph: Graph, variable: str, model: Model) -> tuple[str, str] | None:
    """(checkpoint prefix, key) when the variable's VariableDef initial value is a restore op's output."""
    ref = from_variable_defs(model, variable)
    if ref is None or ref.node not in graph or not is_restore(graph, ref):
        return None
    source = graph.source(ref)
    restore = graph[source.node]
    prefix = _const_string(graph, restore.inputs[0], 0)
    key = _const_string(graph, restore.inputs[1], source.port)
    return (prefix, key) if prefix is not None and key is not None else None


def _const_string(graph: Graph, ref: TensorRef, index: int) -> str | None:
    node = graph.get(graph.source(ref).node)
    if node is None or node.op != "Const":
        return None
    values = node.attrs["value"].tensor.string_val
    return values[index].decode("utf-8", "replace") if index < len(values) else None


def from_variable_defs(model: Model, variable: str) -> TensorRef | None:
    """The initial value the variable's VariableDef names, if any."""
    return initial_values(model).get(variable)


# Parsed once per collections object: stages ask about each variable in turn, and parsing every
# VariableDef for each would make a 100k-node graph's load quadratic. Holding the collections keeps
# their id from being reused while the entry lives.
_INDEX_CACHE: dict[int, tuple[object, dict[str, TensorRef]]] = {}


def initial_values(model: Model) -> dict[str, TensorRef]:
    """Variable node name -> the initial value its VariableDef names, from every variable collection."""
    cached = _INDEX_CACHE.get(id(model.collections))
    if cached is not None and cached[0] is model.collections:
        return cached[1]
    index: dict[str, TensorRef] = {}
    for key in VARIABLE_COLLECTIONS:
        collection = model.collections.get(key)
        if collection is None or collection.WhichOneof("kind") != "bytes_list":
            continue
        for raw in collection.bytes_list.value:
            var_def = pb.variable_pb2.VariableDef.FromString(raw)
            if var_def.initial_value_name:
                index.setdefault(TensorRef.parse(var_def.variable_name).node, TensorRef.parse(var_def.initial_value_name))
    if len(_INDEX_CACHE) >= 8:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[id(model.collections)] = (model.collections, index)
    return index


def is_restore(graph: Graph, ref: TensorRef) -> bool:
    return graph.op_of(graph.source(ref).node) in RESTORE_OPS
