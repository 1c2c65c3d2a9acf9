"""Before any output is written: every stored tensor is what the graph declares it to be.

A checkpoint can hold float64 values for float32 variables, or a tensor of
another shape than its variable. Written as is, the bytes would not match the
dtype the graph (and the index graphsurgeon writes) declares, and TensorFlow
would refuse the result. A mismatch is an error naming both sides; a stored
dtype that widens losslessly into the declared one is cast, with a notice.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator

from graphsurgeon.errors import CorruptCheckpointError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import VARIABLE_OPS

log = logging.getLogger(__name__)


def checked_weights(model: Model) -> Model:
    """``model`` with lossless casts applied to its weights; raises on any other dtype or shape mismatch."""
    weights = model.weights
    for node, key in _stored_values(model):
        declared, info = dt.base(node.attrs["dtype"].type), weights[key]
        if dt.base(info.dtype) == declared:
            continue
        if dt.widens(info.dtype, declared):
            log.warning("checkpoint tensor %r is stored as %s; %r declares %s, so it is cast (losslessly)",
                        key, info.dtype_name, node.name, dt.name_of(declared))
            weights = weights.cast(key, declared)
            continue
        raise CorruptCheckpointError(
            f"checkpoint tensor {key!r} is stored as {info.dtype_name}{list(info.shape)}, but the graph declares "
            f"{node.op} {node.name!r} as {dt.name_of(declared)}; re-save the checkpoint with "
            f"{dt.name_of(declared)} values (cast before saving)")
    _check_shapes(model)
    return model.replace(weights=weights)


def _stored_values(model: Model) -> Iterator[tuple[Node, str]]:
    """(node, weight key) for every lazy constant and every variable whose value comes from the weights."""
    for node in model.graph:
        if node.weight is not None and node.weight in model.weights and "dtype" in node.attrs:
            yield node, node.weight
        elif node.op in VARIABLE_OPS and "dtype" in node.attrs:
            key = model.checkpoint_key(node.name)
            if key in model.weights:
                yield node, key


def _check_shapes(model: Model) -> None:
    """A variable's declared shape, and the shape a frozen value is wrapped in, must admit the stored one."""
    graph = model.graph
    for node in graph:
        if node.op in VARIABLE_OPS:
            key = model.checkpoint_key(node.name)
            if key in model.weights:
                _compatible(node, key, model)
        elif node.op == "PlaceholderWithDefault" and node.inputs:
            value = graph[node.inputs[0].node]
            if value.weight is not None and value.weight in model.weights:
                _compatible(node, value.weight, model)


def _compatible(node: Node, key: str, model: Model) -> None:
    declared = node.attrs.get("shape")
    if declared is None or declared.shape.unknown_rank:
        return
    dims = [d.size for d in declared.shape.dim]
    stored = list(model.weights[key].shape)
    if len(dims) == len(stored) and all(d < 0 or d == s for d, s in zip(dims, stored)):
        return
    raise CorruptCheckpointError(
        f"checkpoint tensor {key!r} has shape {stored}, but the graph declares {node.op} {node.name!r} with shape "
        f"{dims}; load the checkpoint that was saved from this graph")
