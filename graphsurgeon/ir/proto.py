"""Model -> GraphDef proto, reading lazy weights only here and only if asked."""
from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Mapping
from typing import Any

from graphsurgeon.errors import LoadError
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.validate import REFETCH, check_names, node_problem
from graphsurgeon.ir.tensors import to_proto
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.names import TensorRef, split_node_inputs
from graphsurgeon.tf.protos import pb, shape_proto

# Shape annotations from old exporters are often inconsistent with the graph,
# which makes TensorFlow refuse to import it; nothing relies on them. tf.function's
# automatic control dependencies mark some nodes, and lowering a traced while loop
# marks them on some runs and not on others: the marker means nothing to a graph
# that is already built, and dropping it keeps an export the same bytes every time.
DROPPED_ATTRS = frozenset({"_output_shapes", "_has_manual_control_dependencies"})


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


def node_defs(graph: Graph, weights: WeightStore) -> Iterator[Any]:
    """Each node's NodeDef in source order, a lazy Const filled from ``weights`` as it comes: a writer
    that streams them (verify's reference graph) holds one weight at a time, not the whole GraphDef."""
    names = set(graph.names)
    for node in graph:
        value = to_proto(weights.read(node.weight), node.attrs["dtype"].type) if node.weight is not None else None
        yield node_def(_without_stale_colocation(node, names), value)


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
    """A Graph over a GraphDef: names checked now, each Node built (and checked, ir.validate.node_problem) on
    first use.

    A cut of a 100k-node graph uses a few thousand nodes; building and checking
    a Node for every NodeDef up front would cost it seconds, and would refuse a
    damaged node the cut leaves behind.
    """
    library = graph_def.library if graph_def.HasField("library") else None
    versions = graph_def.versions if graph_def.HasField("versions") else None
    return Graph.over(ProtoNodes(graph_def, path), library, versions)


class ProtoNodes(Mapping[str, Node]):
    """name -> Node over a GraphDef's NodeDefs in source order, each Node built on first use.

    A Node's attrs are the parsed proto's own map, not a copy: the GraphDef
    stays alive behind them, and copying 100k maps costs seconds. Inputs are
    parsed with one cache per graph (a tensor read by many nodes is one
    TensorRef), and checked to name real nodes as each Node is built.
    """

    def __init__(self, graph_def: Any, path: str):
        self._graph_def = graph_def  # owns the NodeDefs whose attr maps the Nodes share
        self._defs, self._path = graph_def.node, path
        names: list[str] = []
        self.ops: list[str] = []  # read without building Nodes
        one_op: dict[str, str] = {}
        add_name, add_op = names.append, self.ops.append
        for nd in self._defs:  # one pass: each NodeDef wrapper made once (1M of them in a large graph)
            add_name(nd.name)
            op = nd.op
            add_op(one_op.setdefault(op, op))  # one string per op type, not per node
        self._index = dict(zip(names, range(len(names))))
        self.positions: Mapping[str, int] = self._index  # name -> position, for Graph's membership test
        if len(self._index) != len(names) or "" in self._index or "" in self.ops:
            check_names(graph_def, path)  # names the node
        self._built: list[Node | None] = [None] * len(names)
        self._refs: dict[str, TensorRef] = {}

    def __getitem__(self, name: str) -> Node:
        i = self._index[name]
        node = self._built[i]
        return node if node is not None else self._build(i)

    def get(self, name: str, default: Any = None) -> Any:
        i = self._index.get(name)
        if i is None:
            return default
        node = self._built[i]
        return node if node is not None else self._build(i)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __len__(self) -> int:
        return len(self._index)

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def values(self) -> Iterator[Node]:  # type: ignore[override]
        built = self._built
        for i in range(len(built)):
            node = built[i]
            yield node if node is not None else self._build(i)

    def with_ops(self, ops: Container[str]) -> list[Node]:
        """The nodes whose op is in ``ops``, in source order, building only those."""
        built = self._built
        return [built[i] or self._build(i) for i, op in enumerate(self.ops) if op in ops]

    def op_of(self, name: str) -> str:
        return self.ops[self._index[name]]

    def attrs_of(self, name: str) -> Mapping[str, Any]:
        i = self._index[name]
        node = self._built[i]
        return node.attrs if node is not None else self._defs[i].attr

    def weight_of(self, name: str) -> None:
        self._index[name]  # KeyError for a name not in the graph
        return None  # a Node built from a NodeDef holds its value inline

    def inputs_of(self, name: str) -> tuple[TensorRef, ...]:
        """The data inputs, checked to name real nodes (as _build checks them), the node unbuilt."""
        i = self._index[name]
        node = self._built[i]
        if node is not None:
            return node.inputs
        inputs = split_node_inputs(self._defs[i].input, self._refs)[0]
        index = self._index
        if not all(ref.node in index for ref in inputs):
            return self._build(i).inputs  # raises, naming the missing input
        return inputs

    def _build(self, i: int) -> Node:
        nd = self._defs[i]
        inputs, control = split_node_inputs(nd.input, self._refs)
        node = _new_tuple(Node, (nd.name, nd.op, inputs, control, nd.attr, nd.device, None))
        index = self._index
        if not (all(ref.node in index for ref in inputs) and all(c in index for c in control)):
            self._missing_input(node)
        problem = node_problem(node)
        if problem is not None:
            raise LoadError(f"{self._path}: {problem}; {REFETCH}")
        self._built[i] = node
        return node

    def _missing_input(self, node: Node) -> None:
        for src in node.input_nodes():
            if src not in self._index:
                if not src:
                    raise LoadError(f"{self._path}: node {node.name!r} has an input with an empty name; {REFETCH}")
                raise LoadError(
                    f"{self._path}: node {node.name!r} reads from {src!r}, which is not in the graph; "
                    "the file is probably truncated or was cut by another tool - re-export or re-download it")


_new_tuple = tuple.__new__  # Node's own __new__ handles keywords and defaults, which costs at 100k nodes
