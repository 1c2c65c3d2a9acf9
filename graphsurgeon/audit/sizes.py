"""Byte sizes from metadata alone: no weight is read to compute any of these."""
from __future__ import annotations

import re

from graphsurgeon.errors import UsageError
from graphsurgeon.ir.graph import Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.types import node_nbytes

# Per-node framing a NodeDef adds beyond its strings and attrs (field tags, lengths).
NODE_OVERHEAD = 12


def node_bytes(model: Model, node: Node) -> int:
    """Weight bytes ``node`` owns in ``model`` (a constant's value or its variable's tensor)."""
    return node_nbytes(node, model.weights, model.variable_keys)


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


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B?)\s*", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str) -> int:
    """'50MB' -> 50_000_000, '1.5GiB' -> 1610612736, '123' -> 123 bytes."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).upper() if match else None
    if unit is not None and unit and not unit.endswith("B"):
        unit += "B"
    if not match or unit not in _UNITS:
        raise UsageError(f"cannot parse size {text!r}: write e.g. 50MB, 1.5GiB or 4096")
    return int(float(match.group(1)) * _UNITS[unit])


def format_size(n: int) -> str:
    """Bytes as a short human figure in binary units: 1.50 MiB."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"
