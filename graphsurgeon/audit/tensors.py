"""Every weight a model holds (variables, constants, assets), from metadata alone."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import VARIABLE_OPS
from graphsurgeon.ir.types import const_nbytes

GRAPH, VARIABLES, ASSETS = "graph", "variables", "assets"


@dataclass(frozen=True)
class Weight:
    """One tensor or file and where it is stored: inline in the graph proto, in variables/, or in assets/."""

    name: str  # the node (or asset tensor's node) it belongs to
    kind: str  # "variable", "constant" or "asset"
    op: str
    dtype: str
    shape: list[int] | None
    nbytes: int
    storage: str


def weights_of(model: Model) -> list[Weight]:
    """Weights in graph order; no tensor bytes are read (checkpoint index, shapes, file sizes)."""
    out = []
    for node in model.graph:
        if node.op == "Const":
            out.append(_constant(model, node))
        elif node.op in VARIABLE_OPS:
            out.append(_variable(model, node))
    for asset in model.assets:
        size = os.path.getsize(asset.path) if os.path.isfile(asset.path) else 0
        out.append(Weight(asset.tensor.node, "asset", "asset", "file", None, size, ASSETS))
    return out


def _constant(model: Model, node: Node) -> Weight:
    if node.weight is not None:
        info = model.weights[node.weight]
        return Weight(node.name, "constant", node.op, info.dtype_name, list(info.shape), info.nbytes, VARIABLES)
    tensor = node.attrs["value"].tensor
    shape = [d.size for d in tensor.tensor_shape.dim]
    return Weight(node.name, "constant", node.op, dt.name_of(tensor.dtype), shape,
                  const_nbytes(node, model.weights), GRAPH)


def _variable(model: Model, node: Node) -> Weight:
    info = model.weights.get(model.checkpoint_key(node.name))
    if info is not None:
        return Weight(node.name, "variable", node.op, info.dtype_name, list(info.shape), info.nbytes, VARIABLES)
    # No checkpoint value (a .meta shipped alone): size from the declared shape, if it is fully known.
    declared = node.attrs["shape"].shape if "shape" in node.attrs else None
    shape = None if declared is None or declared.unknown_rank else [d.size for d in declared.dim]
    dtype = node.attrs["dtype"].type
    known = shape is not None and all(d >= 0 for d in shape)
    nbytes = dt.itemsize(dtype) * math.prod(shape or ()) if known else 0
    return Weight(node.name, "variable", node.op, dt.name_of(dtype), shape, nbytes, VARIABLES)
