"""Byte sizes from metadata alone: no weight is read to compute any of these.

The audit reports them and the exporters check limits with them, so they live below both.
"""
from __future__ import annotations

from graphsurgeon.ir.graph import Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import VARIABLE_OPS
from graphsurgeon.ir.types import const_nbytes

# Per-node framing a NodeDef adds beyond its strings and attrs (field tags, lengths).
NODE_OVERHEAD = 12


def node_bytes(model: Model, node: Node) -> int:
    """Weight bytes ``node`` owns in ``model`` (a constant's value or its variable's tensor)."""
    if node.op == "Const":
        return const_nbytes(node, model.weights)
    if node.op in VARIABLE_OPS:
        return variable_bytes(model, node.name)
    return 0


def variable_bytes(model: Model, name: str) -> int:
    """Bytes variable ``name``'s checkpoint tensor holds (0 without one): from its name, the node unbuilt."""
    info = model.weights.get(model.checkpoint_key(name))
    return info.nbytes if info is not None else 0


def weight_bytes(model: Model) -> int:
    return sum(node_bytes(model, n) for n in model.graph)


def estimated_graph_def_bytes(model: Model) -> int:
    """The serialized GraphDef size, within a few percent, from names, attrs and weight sizes."""
    total = 0
    for node in model.graph:
        total += NODE_OVERHEAD + len(node.name) + len(node.op) + len(node.device)
        total += sum(len(r.as_input()) + 2 for r in node.inputs) + sum(len(c) + 3 for c in node.control_inputs)
        total += sum(len(k) + 4 + a.ByteSize() for k, a in node.attrs.items())
        if node.weight is not None:
            total += model.weights[node.weight].nbytes + 24
    return total
