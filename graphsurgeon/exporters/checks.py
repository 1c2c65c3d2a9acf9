"""Structural checks of a GraphDef and its signatures before they are published.

Each check is a mistake TensorFlow's importer or loader refuses, found here
first so that nothing unloadable is ever published, and reported as one line
naming the node and the fix: duplicate names, cycles (other than a while
loop's NextIteration back-edges), invalid dtype enums, Const content that does
not fit its shape, unregistered ops, inputs of the wrong dtype, a tensor a
signature both feeds and fetches, and names TensorFlow's importer refuses.
"""
from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from graphsurgeon.errors import UnloadableOutputError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.tensors import to_proto
from graphsurgeon.ir.types import unregistered_ops
from graphsurgeon.names import TensorRef, split_node_inputs
from graphsurgeon.tf import runtime
from graphsurgeon.tf.protos import pb

# TensorFlow's node-name rule (core/common_runtime/graph_constructor.cc IsValidNodeName, internal ops not
# allowed, as import_graph_def and the SavedModel loader apply it): ASCII letters and digits only.
VALID_NODE_NAME = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_./-]*(>[A-Za-z0-9.][A-Za-z0-9_./-]*)*")
BACK_EDGE_OPS = frozenset({"NextIteration", "RefNextIteration"})  # a while loop's edge back to its Merge
INIT_SIGNATURE = "__saved_model_init_op"


def check_graph_def(graph_def: Any, where: str) -> None:
    """Raise UnloadableOutputError for the first thing in ``graph_def`` TensorFlow would refuse to import."""
    library = graph_def.library if graph_def.HasField("library") else None
    check_nodes([_node(nd) for nd in graph_def.node], library, where)


def check_nodes(nodes: Sequence[Node], library: Any, where: str) -> None:
    """The same checks on Nodes (a Model's graph, before its lazy weights are read: lazy Consts hold no value)."""
    _unique_names(nodes, where)
    check_node_names(nodes, where)
    _valid_dtypes(nodes, where)
    _const_contents(nodes, where)
    _registered_ops(nodes, library, where)
    graph = Graph(nodes, library)
    _inputs_exist(graph, where)
    _acyclic(graph, where)
    _input_dtypes(graph, where)


def check_signatures(graph_def: Any, signature_defs: Mapping[str, Any], where: str) -> None:
    """Every signature tensor exists, and none is both fed and fetched (Session::Run refuses that)."""
    names = {nd.name for nd in graph_def.node}
    for key, sig in sorted(signature_defs.items()):
        for side, tensors in (("input", sig.inputs), ("output", sig.outputs)):
            for tensor_key, info in sorted(tensors.items()):
                if info.name and TensorRef.parse(info.name).node not in names:
                    raise UnloadableOutputError(
                        f"{where}: signature {key!r} {side} {tensor_key!r} names {info.name}, which the graph lacks; "
                        "choose tensors that survive the cut")
        fed = {info.name: k for k, info in sig.inputs.items()}
        for out_key, info in sorted(sig.outputs.items()):
            if info.name in fed and key != INIT_SIGNATURE:
                raise UnloadableOutputError(
                    f"{where}: signature {key!r} feeds {info.name} (input {fed[info.name]!r}) and fetches it "
                    f"(output {out_key!r}), which TensorFlow refuses ('is both fed and fetched'); "
                    "drop it from --outputs, or cut the output after the input")


def check_warmup(requests: Sequence[Mapping[str, np.ndarray]], signature_def: Any, where: str) -> None:
    """Warmup requests Serving replays at load must use the signature's keys and dtypes."""
    expected = {key: info.dtype for key, info in signature_def.inputs.items()}
    for request in requests:
        if set(request) != set(expected):
            raise UnloadableOutputError(
                f"{where}: --warmup arrays have keys {sorted(request)}, but serving_default takes {sorted(expected)}; "
                "name the arrays in the .npz after the signature's input keys")
        for key, value in sorted(request.items()):
            stored = to_proto(value).dtype
            if stored != expected[key]:
                raise UnloadableOutputError(
                    f"{where}: --warmup array {key!r} is {dt.name_of(stored)}, but serving_default's input {key!r} "
                    f"is {dt.name_of(expected[key])}; save the array as {dt.name_of(expected[key])}")
        return  # every request has the same keys and dtypes (one .npz row each)


def _node(nd: Any) -> Node:
    inputs, control = split_node_inputs(nd.input)
    return Node(nd.name, nd.op, inputs, control, nd.attr, nd.device)


def _unique_names(nodes: Iterable[Node], where: str) -> None:
    seen: set[str] = set()
    for nd in nodes:
        if not nd.name:
            raise UnloadableOutputError(f"{where}: a {nd.op} node has an empty name; give every node a name")
        if nd.name in seen:
            raise UnloadableOutputError(
                f"{where}: two nodes are named {nd.name!r}; TensorFlow refuses duplicate names - rename one")
        seen.add(nd.name)


def check_node_names(nodes: Iterable[Node], where: str) -> None:
    """Every name is one TensorFlow's importer accepts (graph_constructor.cc IsValidNodeName, without internal ops)."""
    for nd in nodes:
        if not VALID_NODE_NAME.fullmatch(nd.name):
            raise UnloadableOutputError(
                f"{where}: node {nd.name!r} ({nd.op}) has a name TensorFlow refuses to import ('Node name contains "
                "invalid characters': it allows letters, digits and . _ - / after a letter, digit or '.', and '>' "
                "between such parts); rename the node where the graph was made, or cut it away")


def _valid_dtypes(nodes: Iterable[Node], where: str) -> None:
    valid = frozenset(pb.types_pb2.DataType.values())
    for nd in nodes:
        bad = [(name, enum) for name, attr in nd.attrs.items() if not name.startswith("_")  # "_x": TF skips them
               for enum in _attr_dtypes(attr) if enum not in valid]
        if bad:
            attr_name, enum = min(bad)
            raise UnloadableOutputError(
                f"{where}: node {nd.name!r} ({nd.op}) has attr {attr_name!r} of dtype enum {enum}, which "
                "TensorFlow does not define; fix the producer of this graph or cut the node away")


def _attr_dtypes(attr: Any) -> Iterator[int]:
    kind = attr.WhichOneof("value")
    if kind == "type":
        yield attr.type
    elif kind == "list":
        yield from attr.list.type
    elif kind == "tensor":
        yield attr.tensor.dtype


def _const_contents(nodes: Iterable[Node], where: str) -> None:
    for nd in nodes:
        if nd.op == "Const" and "value" in nd.attrs:
            problem = _tensor_problem(nd.attrs["value"].tensor, nd.attrs["dtype"].type if "dtype" in nd.attrs else None)
            if problem:
                raise UnloadableOutputError(f"{where}: Const {nd.name!r} {problem}; fix or re-export the constant")


def _tensor_problem(tensor: Any, declared: int | None) -> str:
    """What TensorFlow's Tensor::FromProto would refuse in ``tensor``, or ''."""
    if declared is not None and tensor.dtype != declared:
        return f"holds {dt.name_of(tensor.dtype)} but declares dtype {dt.name_of(declared)}"
    dims = [d.size for d in tensor.tensor_shape.dim]
    if any(d < 0 for d in dims):
        return f"has shape {dims} with an unknown dimension"
    count = math.prod(dims)
    if tensor.dtype not in dt.DTYPES:
        return ""  # quantized and other types graphsurgeon does not size: the importer checks them
    width = dt.itemsize(tensor.dtype)
    if tensor.tensor_content:
        if width == 0 or len(tensor.tensor_content) != width * count:
            return (f"holds {len(tensor.tensor_content)} bytes but its shape {dims} of {dt.name_of(tensor.dtype)} "
                    f"needs {width * count}")
        return ""
    field = "string_val" if tensor.dtype == 7 else dt.VALUE_FIELDS.get(tensor.dtype)
    values = len(getattr(tensor, field)) // (2 if tensor.dtype in (8, 18) else 1) if field else 0
    if values > count:  # fewer are allowed: TensorFlow repeats the last value
        return f"holds {values} values but its shape {dims} has {count} elements"
    return ""


def _registered_ops(nodes: Sequence[Node], library: Any, where: str) -> None:
    unknown = unregistered_ops({nd.op for nd in nodes}, library)
    if unknown:
        node = next(nd.name for nd in nodes if nd.op == unknown[0])
        raise UnloadableOutputError(
            f"{where}: node {node!r} uses op {unknown[0]!r}, which TensorFlow does not register (`graphsurgeon lint` "
            "and `audit` flag it too); install the package that defines it (e.g. tensorflow-text) or cut it away")


def _inputs_exist(graph: Graph, where: str) -> None:
    for node in graph:
        for src in node.input_nodes():
            if src not in graph:
                raise UnloadableOutputError(f"{where}: node {node.name!r} reads from {src!r}, which is not in the graph")


def _acyclic(graph: Graph, where: str) -> None:
    """Kahn's algorithm over plain dicts (linear, and fast on 100k nodes); networkx names a cycle if one is left."""
    pending = {node.name: 0 for node in graph}
    consumers: dict[str, list[str]] = {}
    for node in graph:
        for src in node.input_nodes():
            if graph[src].op not in BACK_EDGE_OPS:
                pending[node.name] += 1
                consumers.setdefault(src, []).append(node.name)
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
                       if src in pending and pending[src] > 0 and graph[src].op not in BACK_EDGE_OPS)
    cycle = nx.find_cycle(edges)
    if len(cycle) == 1:
        raise UnloadableOutputError(f"{where}: node {cycle[0][0]!r} reads its own output; break the loop")
    path = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
    raise UnloadableOutputError(
        f"{where}: nodes {path} form a cycle without a while loop's NextIteration; break the loop")


def _input_dtypes(graph: Graph, where: str) -> None:
    """Each data input carries the dtype the consuming op's definition expects (and the port exists)."""
    outputs: dict[str, list[int] | None] = {}
    for node in graph:
        expected = _arg_types(node, "input_arg")
        if expected is None:
            continue
        for index, (ref, wanted) in enumerate(zip(node.inputs, expected)):
            if ref.node not in outputs:
                outputs[ref.node] = _arg_types(graph[ref.node], "output_arg")
            produced = outputs[ref.node]
            if produced is None:
                continue
            if ref.port >= len(produced):
                raise UnloadableOutputError(
                    f"{where}: node {node.name!r} reads {ref}, but {ref.node!r} has {len(produced)} output(s)")
            if dt.base(produced[ref.port]) != dt.base(wanted):
                raise UnloadableOutputError(
                    f"{where}: {node.op} {node.name!r} input {index} expects {dt.name_of(wanted)}, but {ref} is "
                    f"{dt.name_of(produced[ref.port])}; give the input the graph's dtype (e.g. --inputs "
                    f"{ref.node}={dt.name_of(wanted)}[...])")


@functools.lru_cache(maxsize=None)
def _op_signature(op: str) -> tuple[Any, dict[str, Any]] | None:
    """The registered OpDef and its attr defaults, once per op type (graphs repeat a few ops 100k times)."""
    op_def = runtime.op_def(op)
    if op_def is None:
        return None  # a function-library op: the importer types it
    return op_def, {a.name: a.default_value for a in op_def.attr if a.HasField("default_value")}


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
