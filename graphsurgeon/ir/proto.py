"""Model -> GraphDef proto, reading lazy weights only here and only if asked."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphsurgeon.errors import LoadError
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.graph_checks import check_names
from graphsurgeon.ir.tensors import to_proto
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.names import TensorRef, split_node_inputs
from graphsurgeon.protos import pb, shape_proto

# Shape annotations from old exporters are often inconsistent with the graph,
# which makes TensorFlow refuse to import it; nothing relies on them.
DROPPED_ATTRS = frozenset({"_output_shapes"})


def node_def(node: Node, value: Any = None) -> Any:
    """A NodeDef for ``node``; ``value`` (a TensorProto) fills a lazy Const."""
    return _filled(pb.node_def_pb2.NodeDef(), node, value)


def _filled(nd: Any, node: Node, value: Any = None) -> Any:
    """``nd`` (an empty NodeDef, possibly already inside a GraphDef) filled in from ``node``."""
    nd.name, nd.op = node.name, node.op
    if node.device:
        nd.device = node.device
    nd.input.extend([ref.as_input() for ref in node.inputs] + ["^" + c for c in node.control_inputs])
    for key, attr in node.attrs.items():
        if key not in DROPPED_ATTRS:
            nd.attr[key].CopyFrom(attr)
    if value is not None:
        nd.attr["value"].tensor.CopyFrom(value)
    return nd


def to_graph_def(graph: Graph, weights: WeightStore, lazy_as_placeholders: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> Any:
    """The GraphDef for ``graph``.

    Lazy Consts get their bytes from ``weights`` (``progress`` hears bytes read
    so far and in all); with ``lazy_as_placeholders`` they become Placeholders
    of the same dtype and shape instead, for work (shape inference) that must
    not read weights.
    """
    graph_def = pb.graph_pb2.GraphDef()
    if graph.versions is not None:
        graph_def.versions.CopyFrom(graph.versions)
    if graph.library is not None:
        graph_def.library.CopyFrom(graph.library)
    names = set(graph.names)
    total = sum(weights[n.weight].nbytes for n in graph if n.weight is not None) if progress else 0
    done = 0
    for node in graph:
        node = _without_stale_colocation(node, names)
        # filled in place: appending a finished NodeDef would copy it once more
        if node.weight is None:
            _filled(graph_def.node.add(), node)
        elif lazy_as_placeholders:
            _filled(graph_def.node.add(), _placeholder_for(node, node.weight, weights))
        else:
            array = weights.read(node.weight)
            _filled(graph_def.node.add(), node, to_proto(array, node.attrs["dtype"].type))
            done += array.nbytes
            if progress is not None:
                progress(done, total)
    return graph_def


def _placeholder_for(node: Node, key: str, weights: WeightStore) -> Node:
    info = weights[key]
    attrs = {"dtype": node.attrs["dtype"], "shape": pb.attr_value_pb2.AttrValue(shape=shape_proto(info.shape))}
    return Node(node.name, "Placeholder", control_inputs=node.control_inputs, attrs=attrs)


def _without_stale_colocation(node: Node, names: set[str]) -> Node:
    """Drop '_class: loc:@X' entries naming removed nodes: TensorFlow refuses to import them."""
    attr = node.attrs.get("_class")
    if attr is None:
        return node
    locations = [s for s in attr.list.s if not s.startswith(b"loc:@") or s[5:].decode("utf-8", "replace") in names]
    if len(locations) == len(attr.list.s):
        return node
    attrs = {k: v for k, v in node.attrs.items() if k != "_class"}
    if locations:
        attrs["_class"] = pb.attr_value_pb2.AttrValue(list=pb.attr_value_pb2.AttrValue.ListValue(s=locations))
    return node.replace(attrs=attrs)


def graph_from_proto(graph_def: Any, path: str) -> Graph:
    """Build a Graph from a GraphDef, checking names and that every input names a real node.

    The per-node checks (graph_checks.check_nodes) are the caller's: load() or a plan.

    Written for 100k-node graphs: a node's attrs are the parsed proto's own
    map, not a copy (the GraphDef stays alive behind them, and copying 100k
    maps costs seconds); Nodes are built as plain tuples, without NamedTuple's
    keyword handling; names are checked in bulk, and node by node only to name
    what is wrong.
    """
    refs: dict[str, TensorRef] = {}
    nodes = [_new_tuple(Node, (nd.name, nd.op, *split_node_inputs(nd.input, refs), nd.attr, nd.device, None))
             for nd in graph_def.node]
    library = graph_def.library if graph_def.HasField("library") else None
    versions = graph_def.versions if graph_def.HasField("versions") else None
    graph = Graph(nodes, library, versions)
    if len(graph) != len(nodes) or "" in graph or not all(node.op for node in nodes):
        check_names(graph_def, path)
    _check_inputs_exist(graph, refs, graph_def, path)
    return graph


_new_tuple = tuple.__new__


def _check_inputs_exist(graph: Graph, refs: dict[str, TensorRef], graph_def: Any, path: str) -> None:
    referenced = {ref.node for ref in refs.values()}
    referenced.update(name for node in graph if node.control_inputs for name in node.control_inputs)
    if all(name in graph for name in referenced):
        return
    check_names(graph_def, path)  # an empty input name is named as such
    for node in graph:
        for src in node.input_nodes():
            if src not in graph:
                raise LoadError(
                    f"{path}: node {node.name!r} reads from {src!r}, which is not in the graph; "
                    "the file is probably truncated or was cut by another tool - re-export or re-download it"
                )
