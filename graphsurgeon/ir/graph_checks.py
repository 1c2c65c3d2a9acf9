"""Load-time checks of a GraphDef that later stages rely on, each failure one LoadError.

Everything after loading assumes node names are non-empty and unique, dtypes
are TensorFlow's, and a constant is no bigger than the bytes it holds (a Const
may declare [2**40] with one value, which TensorFlow broadcasts: expanding it
would allocate terabytes). A damaged or hostile file breaks one of these; it is
refused here, naming the node, rather than deep inside a later stage.
"""
from __future__ import annotations

import math
from typing import Any

from graphsurgeon import _tf
from graphsurgeon import dtypes as dt
from graphsurgeon.errors import LoadError
from graphsurgeon.limits import PROTO_LIMIT

REFETCH = "re-export or re-download the model; the file is damaged or was edited by hand"


def check_graph_def(graph_def: Any, path: str) -> None:
    """Raise LoadError for the first node with an empty or repeated name, a bad dtype, or a bad constant."""
    seen: dict[str, int] = {}
    for index, node in enumerate(graph_def.node):
        if not node.name:
            raise LoadError(f"{path}: node #{index} (op {node.op or '?'}) has an empty name; {REFETCH}")
        if node.name in seen:
            raise LoadError(f"{path}: node name {node.name!r} is used twice (nodes #{seen[node.name]} and "
                            f"#{index}); TensorFlow refuses such a graph: {REFETCH}")
        seen[node.name] = index
        if not node.op:
            raise LoadError(f"{path}: node {node.name!r} has no op; {REFETCH}")
        if any(not name or name == "^" for name in node.input):
            raise LoadError(f"{path}: node {node.name!r} has an input with an empty name; {REFETCH}")
        for key in sorted(node.attr):
            problem = attr_problem(node.attr[key])
            if problem is not None:
                raise LoadError(f"{path}: node {node.name!r} ({node.op}) attr {key!r}: {problem}; {REFETCH}")
        if node.op == "Const":
            _check_const_dtype(node, path)
        _check_arity(node, path)


def _check_arity(node: Any, path: str) -> None:
    """TensorFlow's importer refuses a node whose data inputs do not match its op; later stages index them."""
    expected = expected_inputs(node)
    given = sum(1 for name in node.input if not name.startswith("^"))
    if expected is not None and given != expected:
        raise LoadError(f"{path}: node {node.name!r} ({node.op}) has {given} data input(s), but its op takes "
                        f"{expected}; {REFETCH}")


def expected_inputs(node: Any) -> int | None:
    """How many data inputs the node's registered op takes, or None if that is unknown here."""
    op_def = _tf.op_def(node.op)
    if op_def is None:
        return None  # a function from the graph's library, or an unregistered op (reported elsewhere)
    defaults = {a.name: a.default_value for a in op_def.attr if a.HasField("default_value")}
    count = 0
    for arg in op_def.input_arg:
        if arg.number_attr:
            attr = node.attr[arg.number_attr] if arg.number_attr in node.attr else defaults.get(arg.number_attr)
            if attr is None:
                return None
            count += attr.i
        elif arg.type_list_attr:
            attr = node.attr[arg.type_list_attr] if arg.type_list_attr in node.attr else defaults.get(arg.type_list_attr)
            if attr is None:
                return None
            count += len(attr.list.type)
        else:
            count += 1
    return count


def _check_const_dtype(node: Any, path: str) -> None:
    """TensorFlow's Const kernel refuses a value whose dtype is not the node's: refuse it before it is used."""
    if "dtype" in node.attr and "value" in node.attr and node.attr["value"].tensor.dtype != node.attr["dtype"].type:
        raise LoadError(f"{path}: Const {node.name!r} declares dtype {dt.name_of(node.attr['dtype'].type)} but "
                        f"its value is {dt.name_of(node.attr['value'].tensor.dtype)}; {REFETCH}")


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
