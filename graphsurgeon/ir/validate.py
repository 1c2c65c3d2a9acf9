"""The one structural validator: what TensorFlow's importer would refuse in a graph, found first, named in one line.

Two entry points share every check and one OpDef cache:

- ``node_problem(node)``: one node on its own (attrs and dtype enums, a Const
  whose value does not fit its dtype and shape, or that only expands to more
  than protobuf can hold, the number of inputs its op takes). A graph read from
  a file checks each node as it is first built (ir.proto), so no stage ever
  works on a damaged node and a damaged node a cut leaves behind costs nothing.
- ``validate(graph, where)``: the whole graph, once, in one pass: every node as
  above, registered ops, inputs that exist with the dtype their consumer
  expects, and no cycle but a while loop's back edges. An export or a frozen
  .pb validates its final graph with it before any weight is read, and verify
  the SavedModel it checks; inspect and audit meet the per-node checks as
  they build the nodes they show.
"""
from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any

from graphsurgeon.errors import GraphSurgeonError, LoadError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.formats.limits import PROTO_LIMIT
from graphsurgeon.ir.custom_ops import unregistered_message
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.ops import NEXT_ITERATION_OPS
from graphsurgeon.ir.types import unregistered_ops_of
from graphsurgeon.tf import runtime

REFETCH = "re-export or re-download the model; the file is damaged or was edited by hand"
# TensorFlow's rule for node names (tensorflow/core/framework/node_def_util.cc, IsValidNodeName).
_PART = r"[A-Za-z0-9.][A-Za-z0-9_./\-]*"
NODE_NAME = re.compile(rf"{_PART}(?:>{_PART})*")


def check_names(graph_def: Any, path: str) -> None:
    """Raise LoadError for the first node with an empty or repeated name, no op, or an empty input name.

    What loading checks of every node: the Graph is keyed by name.
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


def validate(graph: Graph, where: str, error: type[GraphSurgeonError] = LoadError, fix: str = REFETCH, *,
             registered: bool = True) -> None:
    """Raise ``error`` ("WHERE: what is wrong; FIX") for the first thing in ``graph`` TensorFlow would refuse.

    ``registered`` False leaves ops this TensorFlow does not register to the caller (audit and verify report
    them with the rest of their findings)."""
    nodes: list[Node] = []
    pending: dict[str, int] = {}
    consumers: dict[str, list[str]] = {}
    for node in graph:
        problem = node_problem(node) or _input_problem(graph, node)
        if problem is not None:
            raise error(f"{where}: {problem}; {fix}")
        nodes.append(node)
        pending[node.name] = 0
        for src in node.input_nodes():
            if graph.op_of(src) not in NEXT_ITERATION_OPS:
                pending[node.name] += 1
                consumers.setdefault(src, []).append(node.name)
    unknown = unregistered_ops_of(nodes, graph.library) if registered else {}
    if unknown:  # every one, with where it is used and the package that provides it
        raise error(f"{where}: {unregistered_message(list(unknown), unknown)}")
    _acyclic(graph, pending, consumers, where, error)


def node_problem(node: Node) -> str | None:
    """What is wrong with ``node`` on its own, as "node 'x' (Op) ...", or None."""
    if NODE_NAME.fullmatch(node.name) is None:
        return (f"node {node.name!r} ({node.op}) has a name TensorFlow refuses to import ('Node name contains "
                "invalid characters': it allows letters, digits and . _ - / after a letter, digit or '.', and '>' "
                "between such parts)")
    attrs = node.attrs
    if node.op == "Const" and "value" in attrs:
        declared = attrs["dtype"].type if "dtype" in attrs else None
        problem = const_problem(attrs["value"].tensor, declared)
        if problem is not None:
            return f"Const {node.name!r} {problem}"
    for attr in attrs.values():  # the first problem by sorted key is named, once one is known to exist
        if attr_problem(attr) is not None:
            key = min(k for k in attrs if attr_problem(attrs[k]) is not None)
            return f"node {node.name!r} ({node.op}) attr {key!r}: {attr_problem(attrs[key])}"
    expected = expected_inputs(node.op, attrs)
    if expected is not None and len(node.inputs) != expected:
        return f"node {node.name!r} ({node.op}) has {len(node.inputs)} data input(s), but its op takes {expected}"
    return None


def attr_problem(attr: Any) -> str | None:
    """What is wrong with one AttrValue, or None."""
    kind = attr.WhichOneof("value")
    if kind == "type":
        return _dtype_problem(attr.type)
    if kind == "list":  # most are shapes or colocations: no types to check
        for enum in attr.list.type:
            problem = None if enum in _DEFINED_DTYPES else _dtype_problem(enum)
            if problem is not None:
                return problem
        return None
    if kind == "shape":
        return _dims_problem([d.size for d in attr.shape.dim], allow_unknown=True)
    if kind == "tensor":
        return const_problem(attr.tensor, None)
    return None


def const_problem(tensor: Any, declared: int | None) -> str | None:
    """What TensorFlow's Tensor::FromProto would refuse in ``tensor`` (a Const's value), or None; a value that
    only expands to more than protobuf can hold is refused too, before anything expands it."""
    problem = _dtype_problem(tensor.dtype) or _dims_problem([d.size for d in tensor.tensor_shape.dim], False)
    if problem is not None:
        return problem
    if dt.is_ref(tensor.dtype):
        return f"holds the reference type {dt.name_of(tensor.dtype)}_ref, which a constant cannot"
    if declared is not None and tensor.dtype != declared:
        return f"holds {dt.name_of(tensor.dtype)} but declares dtype {dt.name_of(declared)}"
    if tensor.dtype in dt.VARIABLE_WIDTH:
        return None
    dims = [d.size for d in tensor.tensor_shape.dim]
    count, width = math.prod(dims), dt.itemsize(tensor.dtype)
    if tensor.tensor_content:
        if len(tensor.tensor_content) != width * count:
            return (f"holds {len(tensor.tensor_content)} bytes but its shape {dims} of {dt.name_of(tensor.dtype)} "
                    f"needs {width * count}")
        return None
    if count * width > PROTO_LIMIT:
        return (f"declares shape {dims} ({count * width} bytes) but holds 0 bytes of content; expanding it "
                "would allocate more than a GraphDef can hold")
    field = dt.VALUE_FIELDS.get(tensor.dtype)
    values = len(getattr(tensor, field)) // (2 if tensor.dtype in dt.COMPLEX else 1) if field else 0
    if values > count:  # fewer are allowed: TensorFlow repeats the last value
        return f"holds {values} values but its shape {dims} has {count} elements"
    return None


def expected_inputs(op: str, attrs: Mapping[str, Any]) -> int | None:
    """How many data inputs a node of registered ``op`` with ``attrs`` takes, or None if that is unknown here."""
    signature = _op_signature(op)
    if signature is None:
        return None  # a function from the graph's library, or an unregistered op (validate names it)
    op_def, defaults = signature
    count = 0
    for arg in op_def.input_arg:
        key = arg.number_attr or arg.type_list_attr
        if not key:
            count += 1
            continue
        attr = attrs[key] if key in attrs else defaults.get(key)
        if attr is None:
            return None
        count += attr.i if arg.number_attr else len(attr.list.type)
    return count


@functools.lru_cache(maxsize=None)
def _op_signature(op: str) -> tuple[Any, dict[str, Any]] | None:
    """The registered OpDef and its attr defaults, once per op type (graphs repeat a few ops 100k times)."""
    op_def = runtime.op_def(op)
    if op_def is None:
        return None
    return op_def, {a.name: a.default_value for a in op_def.attr if a.HasField("default_value")}


def _dtype_problem(enum: int) -> str | None:
    if enum in _DEFINED_DTYPES or (enum != 0 and dt.is_defined(enum)):
        return None
    return f"dtype enum {enum} is not a TensorFlow DataType"


# dt.is_defined for every value and reference type, asked once: nodes of a 1M-node graph hold 1M dtype attrs.
_DEFINED_DTYPES = frozenset(enum for enum in range(1, 2 * dt.REF_OFFSET) if dt.is_defined(enum))


def _dims_problem(dims: list[int], allow_unknown: bool) -> str | None:
    lowest = -1 if allow_unknown else 0
    if any(d < lowest for d in dims):
        return f"shape {dims} has a dimension below {lowest}"
    return None


def _input_problem(graph: Graph, node: Node) -> str | None:
    """A data input that is not there, or whose dtype is not the one the consuming op expects."""
    for src in node.input_nodes():
        if src not in graph:
            return f"node {node.name!r} reads from {src!r}, which is not in the graph"
    expected = _arg_types(node, "input_arg")
    if expected is None:
        return None
    for index, (ref, wanted) in enumerate(zip(node.inputs, expected)):
        produced = _arg_types(graph[ref.node], "output_arg")
        if produced is None:
            continue
        if ref.port >= len(produced):
            return f"node {node.name!r} reads {ref}, but {ref.node!r} has {len(produced)} output(s)"
        if dt.base(produced[ref.port]) != dt.base(wanted):
            return (f"{node.op} {node.name!r} input {index} expects {dt.name_of(wanted)}, but {ref} is "
                    f"{dt.name_of(produced[ref.port])} (give the input the graph's dtype, e.g. --inputs "
                    f"{ref.node}={dt.name_of(wanted)}[...])")
    return None


def _arg_types(node: Node, which: str) -> list[int] | None:
    """DataType enums of a node's inputs or outputs from its op's definition; None if they cannot be told."""
    signature = _op_signature(node.op)
    if signature is None:
        return None
    op_def, defaults = signature
    types: list[int] = []
    try:
        for arg in getattr(op_def, which):
            if arg.type:
                arg_types = [arg.type]
            elif arg.type_attr:
                arg_types = [_attr(node, arg.type_attr, defaults).type]
            else:
                arg_types = list(_attr(node, arg.type_list_attr, defaults).list.type)
            if arg.number_attr:
                arg_types *= _attr(node, arg.number_attr, defaults).i
            types.extend(arg_types)
    except KeyError:
        return None  # a missing attr: the importer names it
    return types


def _attr(node: Node, name: str, defaults: dict[str, Any]) -> Any:
    return node.attrs[name] if name in node.attrs else defaults[name]


def _acyclic(graph: Graph, pending: dict[str, int], consumers: dict[str, list[str]], where: str,
             error: type[GraphSurgeonError]) -> None:
    """Kahn's algorithm over the counts validate() gathered; networkx names a cycle if one is left."""
    ready = [name for name, count in pending.items() if count == 0]
    while ready:
        for consumer in consumers.get(ready.pop(), ()):
            pending[consumer] -= 1
            if pending[consumer] == 0:
                ready.append(consumer)
    stuck = [name for name, count in pending.items() if count > 0]
    if not stuck:
        return
    import networkx as nx  # only to name a cycle once one is known to exist: a CLI run saves ~0.2 s importing it

    edges = nx.DiGraph((src, name) for name in stuck for src in graph[name].input_nodes()
                       if pending.get(src, 0) > 0 and graph.op_of(src) not in NEXT_ITERATION_OPS)
    cycle = nx.find_cycle(edges)
    if len(cycle) == 1:
        raise error(f"{where}: node {cycle[0][0]!r} reads its own output; break the loop")
    path = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
    raise error(f"{where}: nodes {path} form a cycle without a while loop's NextIteration; break the loop")
