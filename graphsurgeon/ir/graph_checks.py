"""Load-time checks of a GraphDef that later stages rely on, each failure one LoadError.

Everything after loading assumes node names are non-empty and unique, dtypes
are TensorFlow's, and a constant is no bigger than the bytes it holds (a Const
may declare [2**40] with one value, which TensorFlow broadcasts: expanding it
would allocate terabytes). A damaged or hostile file breaks one of these; it is
refused here, naming the node, rather than deep inside a later stage.

Names are checked as every graph is built. The per-node checks (attrs,
constants, arity) cost seconds on a 100k-node graph, so they run on the nodes
that will be used: load() checks all of them, and a plan checks what it keeps.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from typing import Any

from graphsurgeon.errors import LoadError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.formats.limits import PROTO_LIMIT
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.tf import runtime

REFETCH = "re-export or re-download the model; the file is damaged or was edited by hand"


def check_names(graph_def: Any, path: str) -> None:
    """Raise LoadError for the first node with an empty or repeated name, no op, or an empty input name.

    Cheap enough to run on every node of every graph loaded: the Graph is keyed by name.
    """
    seen: dict[str, int] = {}
    for index, node in enumerate(graph_def.node):
        name = node.name
        if not name:
            raise LoadError(f"{path}: node #{index} (op {node.op or '?'}) has an empty name; {REFETCH}")
        if name in seen:
            raise LoadError(f"{path}: node name {name!r} is used twice (nodes #{seen[name]} and "
                            f"#{index}); TensorFlow refuses such a graph: {REFETCH}")
        seen[name] = index
        if not node.op:
            raise LoadError(f"{path}: node {name!r} has no op; {REFETCH}")
        if "" in node.input or "^" in node.input:
            raise LoadError(f"{path}: node {name!r} has an input with an empty name; {REFETCH}")


def check_nodes(graph: Graph, path: str, names: Iterable[str] | None = None) -> None:
    """Raise LoadError for the first node (of ``names``, default all) with a bad dtype, attr, constant or arity.

    load() runs this on every node; a cut that keeps a few thousand nodes of a
    100k-node graph loads without it and its plan checks only what it keeps.
    """
    nodes = graph if names is None else [graph[n] for n in sorted(names) if n in graph]
    for node in nodes:
        attrs = node.attrs
        for key in sorted(attrs):
            problem = attr_problem(attrs[key])
            if problem is not None:
                raise LoadError(f"{path}: node {node.name!r} ({node.op}) attr {key!r}: {problem}; {REFETCH}")
        if node.op == "Const":
            _check_const_dtype(node, path)
        _check_arity(node, path)


def _check_arity(node: Node, path: str) -> None:
    """TensorFlow's importer refuses a node whose data inputs do not match its op; later stages index them."""
    expected = expected_inputs(node.op, node.attrs)
    given = len(node.inputs)
    if expected is not None and given != expected:
        raise LoadError(f"{path}: node {node.name!r} ({node.op}) has {given} data input(s), but its op takes "
                        f"{expected}; {REFETCH}")


def expected_inputs(op: str, attrs: Mapping[str, Any]) -> int | None:
    """How many data inputs a node of registered ``op`` with ``attrs`` takes, or None if that is unknown here."""
    args = _input_args(op)
    if args is None:
        return None  # a function from the graph's library, or an unregistered op (reported elsewhere)
    count = 0
    for number_attr, list_attr, default in args:
        if not number_attr and not list_attr:
            count += 1
            continue
        key = number_attr or list_attr
        attr = attrs[key] if key in attrs else default
        if attr is None:
            return None
        count += attr.i if number_attr else len(attr.list.type)
    return count


@functools.lru_cache(maxsize=None)
def _input_args(op: str) -> tuple[tuple[str, str, Any], ...] | None:
    """(number_attr, type_list_attr, that attr's default) per input arg of ``op``: its OpDef read once per run."""
    op_def = runtime.op_def(op)
    if op_def is None:
        return None
    defaults = {a.name: a.default_value for a in op_def.attr if a.HasField("default_value")}
    return tuple((arg.number_attr, arg.type_list_attr, defaults.get(arg.number_attr or arg.type_list_attr))
                 for arg in op_def.input_arg)


def _check_const_dtype(node: Node, path: str) -> None:
    """TensorFlow's Const kernel refuses a value whose dtype is not the node's: refuse it before it is used."""
    attrs = node.attrs
    if "dtype" in attrs and "value" in attrs and attrs["value"].tensor.dtype != attrs["dtype"].type:
        raise LoadError(f"{path}: Const {node.name!r} declares dtype {dt.name_of(attrs['dtype'].type)} but "
                        f"its value is {dt.name_of(attrs['value'].tensor.dtype)}; {REFETCH}")


def attr_problem(attr: Any) -> str | None:
    """What is wrong with one AttrValue, or None."""
    kind = attr.WhichOneof("value")
    if kind == "type":
        return _dtype_problem(attr.type)
    if kind == "list":
        return next((p for p in map(_dtype_problem, attr.list.type) if p is not None), None)
    if kind == "shape":
        return _dims_problem([d.size for d in attr.shape.dim], allow_unknown=True)
    if kind == "tensor":
        return tensor_problem(attr.tensor)
    return None


def _dtype_problem(enum: int) -> str | None:
    if enum == 0 or not dt.is_defined(enum):
        return f"dtype enum {enum} is not a TensorFlow DataType"
    return None


def _dims_problem(dims: list[int], allow_unknown: bool) -> str | None:
    lowest = -1 if allow_unknown else 0
    if any(d < lowest for d in dims):
        return f"shape {dims} has a dimension below {lowest}"
    return None


def tensor_problem(tensor: Any) -> str | None:
    """A TensorProto with a bad dtype or shape, or one that only expands to more than protobuf can hold."""
    problem = _dtype_problem(tensor.dtype) or _dims_problem([d.size for d in tensor.tensor_shape.dim], False)
    if problem is None and dt.base(tensor.dtype) != tensor.dtype:
        problem = f"a constant cannot hold the reference type {dt.name_of(tensor.dtype)}_ref"
    if problem is not None or dt.base(tensor.dtype) in dt.VARIABLE_WIDTH:
        return problem
    dims = [d.size for d in tensor.tensor_shape.dim]
    declared = math.prod(dims) * dt.itemsize(tensor.dtype)
    if declared > PROTO_LIMIT and len(tensor.tensor_content) < declared:
        return (f"the constant declares shape {dims} ({declared} bytes) but holds {len(tensor.tensor_content)} "
                "bytes of content; expanding it would allocate more than a GraphDef can hold")
    return None
