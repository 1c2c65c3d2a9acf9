"""Node and Graph: the dataflow graph every stage reads and rebuilds.

A Graph is immutable. Stages build a new one from new Nodes; indexes derived
from the nodes (consumers, the networkx view) are computed on demand and never
edited by hand, so a node's inputs live in exactly one place.

A loaded graph builds each Node on first use (ir.proto.ProtoNodes), and an
edited one shares the nodes it did not change (EditedNodes). Code on a cut's
path asks for what it needs (of_ops, op_of, name_ops, nodes_in) rather than
iterating every node, so cutting a few thousand nodes out of 100k builds only those.
"""
from __future__ import annotations

import functools
from collections import defaultdict, deque
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from graphsurgeon.ir.ops import NEXT_ITERATION_OPS
from graphsurgeon.names import TensorRef

if TYPE_CHECKING:
    import networkx as nx

_NO_ATTRS: Mapping[str, Any] = MappingProxyType({})
IDENTITY = frozenset({"Identity"})


class Node(NamedTuple):
    """One operation. ``attrs`` maps names to the source's raw AttrValue protos (read-only).

    ``weight`` marks a Const whose value is not inline but read lazily from the
    model's WeightStore under that key when the node is written out. A
    NamedTuple rather than a dataclass: graphs hold 100k of them.
    """

    name: str
    op: str
    inputs: tuple[TensorRef, ...] = ()
    control_inputs: tuple[str, ...] = ()
    attrs: Mapping[str, Any] = _NO_ATTRS
    device: str = ""
    weight: str | None = None

    def replace(self, **changes: Any) -> "Node":
        return self._replace(**changes)

    def input_nodes(self) -> Iterator[str]:
        """Names of every node this one depends on, data inputs first."""
        for ref in self.inputs:
            yield ref.node
        yield from self.control_inputs


class Graph:
    """Nodes in source order, plus the function library and versions protos."""

    def __init__(self, nodes: Iterable[Node], library: Any = None, versions: Any = None):
        self._use({node.name: node for node in nodes})
        self.library = library
        self.versions = versions

    @classmethod
    def over(cls, nodes: Mapping[str, Node], library: Any = None, versions: Any = None) -> "Graph":
        """A graph over a ready name -> Node mapping in source order (one that builds its Nodes on first use)."""
        graph = cls((), library, versions)
        graph._use(nodes)
        return graph

    def _use(self, nodes: Mapping[str, Node]) -> None:
        """Hold ``nodes``. A mapping that builds Nodes on demand (ir.proto.ProtoNodes, EditedNodes) answers
        op_of and the rest itself: its methods are looked up here once, not on each of a million calls."""
        self._nodes = nodes
        self._members: Container[str] = getattr(nodes, "positions", nodes)  # a plain dict where there is one
        self._ask_op = getattr(nodes, "op_of", None)
        self._ask_attrs = getattr(nodes, "attrs_of", None)
        self._ask_weight = getattr(nodes, "weight_of", None)
        self._ask_inputs = getattr(nodes, "inputs_of", None)

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def __getitem__(self, name: str) -> Node:
        return self._nodes[name]

    def get(self, name: str) -> Node | None:
        return self._nodes.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._nodes)

    def of_ops(self, ops: Container[str]) -> list[Node]:
        """The nodes whose op is in ``ops``, in source order.

        A graph over a GraphDef answers from its op list without building the
        other nodes: loaders and plans ask for variables, restores and NoOps of
        100k-node graphs whose cut keeps a few thousand.
        """
        with_ops = getattr(self._nodes, "with_ops", None)
        if with_ops is not None:
            return with_ops(ops)
        return [node for node in self._nodes.values() if node.op in ops]

    def name_ops(self) -> Iterator[tuple[str, str]]:
        """(name, op) of every node in source order, without building the nodes of a graph over a GraphDef."""
        ops = getattr(self._nodes, "ops", None)
        if ops is not None:
            return zip(self._nodes, ops)
        return ((node.name, node.op) for node in self._nodes.values())

    def op_of(self, name: str) -> str:
        """The op of node ``name`` (KeyError if there is none), without building it in a graph over a GraphDef."""
        ask = self._ask_op
        return ask(name) if ask is not None else self._nodes[name].op

    def attrs_of(self, name: str) -> Mapping[str, Any]:
        """Node ``name``'s attrs, without building it in a graph over a GraphDef (the cut report sizes
        the constants a cut removes by their attrs alone)."""
        ask = self._ask_attrs
        return ask(name) if ask is not None else self._nodes[name].attrs

    def weight_of(self, name: str) -> str | None:
        """Node ``name``'s lazy weight key (see Node.weight), without building it in a graph over a GraphDef."""
        ask = self._ask_weight
        return ask(name) if ask is not None else self._nodes[name].weight

    def inputs_of(self, name: str) -> tuple[TensorRef, ...]:
        """Node ``name``'s data inputs, without building it in a graph over a GraphDef (the saver's keys are
        read from the inputs of 100k restore assigns a cut removes)."""
        ask = self._ask_inputs
        return ask(name) if ask is not None else self._nodes[name].inputs

    def nodes_in(self, names: Container[str]) -> Iterator[Node]:
        """The nodes named in ``names``, in source order (building only those, in a graph over a GraphDef)."""
        nodes = self._nodes
        return (nodes[name] for name in nodes if name in names)

    def with_nodes(self, nodes: Iterable[Node]) -> "Graph":
        """A graph with the same library and versions but other nodes."""
        return Graph(nodes, self.library, self.versions)

    def edited(self, changes: Mapping[str, Sequence[Node]]) -> "Graph":
        """This graph with each node named in ``changes`` replaced, in place, by its nodes (none: removed).

        Unchanged nodes are shared, not copied or built: freezing the few
        thousand variables of a 100k-node graph touches only those.
        """
        if not changes:
            return self
        return Graph.over(EditedNodes(self._nodes, changes), self.library, self.versions)

    def free_name(self, name: str) -> str:
        """``name``, or ``name_1``, ``name_2``, ...: the first no node of this graph has."""
        candidate, i = name, 1
        while candidate in self._nodes:
            candidate, i = f"{name}_{i}", i + 1
        return candidate

    def source(self, ref: TensorRef, through: Iterable[str] = IDENTITY) -> TensorRef:
        """The tensor behind ``ref`` once pass-through ops (Identity by default) are looked through."""
        through = through if isinstance(through, frozenset) else frozenset(through)
        seen = set()
        while self.op_of(ref.node) in through and ref not in seen:
            inputs = self.inputs_of(ref.node)
            if not inputs:
                break
            seen.add(ref)
            ref = inputs[0]
        return ref

    @functools.cached_property
    def consumers(self) -> Mapping[str, tuple[str, ...]]:
        """Node name -> names of nodes using it as a data or control input, in source order."""
        out: dict[str, list[str]] = defaultdict(list)
        for node in self._nodes.values():
            for src in dict.fromkeys(node.input_nodes()):
                out[src].append(node.name)
        return {k: tuple(v) for k, v in out.items()}

    def downstream(self, starts: Iterable[str]) -> set[str]:
        """``starts`` and every node they feed through data or control edges (a breadth-first walk)."""
        starts = list(starts)
        consumers = self.consumers
        seen, queue = set(starts), deque(starts)
        while queue:
            for consumer in consumers.get(queue.popleft(), ()):
                if consumer not in seen:
                    seen.add(consumer)
                    queue.append(consumer)
        return seen

    @functools.cached_property
    def data_consumers(self) -> Mapping[TensorRef, tuple[tuple[str, int], ...]]:
        """Tensor -> (consumer node, input slot) pairs, in source order."""
        out: dict[TensorRef, list[tuple[str, int]]] = defaultdict(list)
        for node in self._nodes.values():
            for slot, ref in enumerate(node.inputs):
                out[ref].append((node.name, slot))
        return {k: tuple(v) for k, v in out.items()}

    @functools.cached_property
    def nx(self) -> nx.DiGraph:
        """Producer -> consumer edges (data and control) for networkx algorithms."""
        import networkx  # imported on first use: a cut never needs it, and it costs a CLI run ~0.2 s

        g = networkx.DiGraph()
        g.add_nodes_from(self._nodes)
        for node in self._nodes.values():
            g.add_edges_from((src, node.name) for src in node.input_nodes() if src in self._nodes)
        return g

    def topological_order(self) -> list[str]:
        """Names in an order where producers come first; ties keep source order.

        Back edges of v1 while loops (NextIteration -> Merge) are ignored, as
        TensorFlow's executor does.
        """
        g = self.nx.copy()
        g.remove_edges_from([
            (src, dst) for src, dst in self.nx.edges
            if self._nodes[src].op in NEXT_ITERATION_OPS
        ])
        position = {name: i for i, name in enumerate(self._nodes)}
        import networkx

        return list(networkx.lexicographical_topological_sort(g, key=position.__getitem__))


class EditedNodes(Mapping[str, Node]):
    """name -> Node: a base mapping with some nodes replaced in place, the rest read from the base.

    The order is walked, not stored: a freeze edits a few thousand nodes of graphs
    with up to a million. Only edits that rename onto another node's name (or give
    a name twice) store it, first position winning.
    """

    def __init__(self, base: Mapping[str, Node], changes: Mapping[str, Sequence[Node]]):
        self._base = base
        self._changes = {name: tuple(nodes) for name, nodes in changes.items()}
        self._new = {node.name: node for nodes in self._changes.values() for node in nodes}
        self._walked = (sum(map(len, self._changes.values())) == len(self._new)
                        and all(name in base for name in self._changes)
                        and all(name in self._changes or name not in base for name in self._new))

    @functools.cached_property
    def _order(self) -> dict[str, None]:
        return dict.fromkeys(self._names())

    def _names(self) -> Iterator[str]:
        changes = self._changes
        for name in self._base:
            if name in changes:
                yield from (node.name for node in changes[name])
            else:
                yield name

    def __getitem__(self, name: str) -> Node:
        if name not in self:
            raise KeyError(name)
        node = self._new.get(name)
        return node if node is not None else self._base[name]

    def __contains__(self, name: object) -> bool:
        if not self._walked:
            return name in self._order
        return name in self._new or (name not in self._changes and name in self._base)

    def __len__(self) -> int:
        if not self._walked:
            return len(self._order)
        return len(self._base) - len(self._changes) + len(self._new)

    def __iter__(self) -> Iterator[str]:
        return self._names() if self._walked else iter(self._order)

    def op_of(self, name: str) -> str:
        node = self._new.get(name)
        return node.op if node is not None else _op_of(self._base, self._unchanged(name))

    def attrs_of(self, name: str) -> Mapping[str, Any]:
        node = self._new.get(name)
        return node.attrs if node is not None else _attrs_of(self._base, self._unchanged(name))

    def weight_of(self, name: str) -> str | None:
        node = self._new.get(name)
        return node.weight if node is not None else _weight_of(self._base, self._unchanged(name))

    def inputs_of(self, name: str) -> tuple[TensorRef, ...]:
        node = self._new.get(name)
        return node.inputs if node is not None else _inputs_of(self._base, self._unchanged(name))

    def _unchanged(self, name: str) -> str:
        if name not in self:
            raise KeyError(name)
        return name

    def with_ops(self, ops: Container[str]) -> list[Node]:
        """The nodes whose op is in ``ops``, in order, asking the base for its own (see Graph.of_ops)."""
        base_with_ops = getattr(self._base, "with_ops", None)
        if base_with_ops is None:
            return [self[name] for name in self if self[name].op in ops]
        found = {n.name: n for n in base_with_ops(ops) if n.name in self and n.name not in self._new}
        found.update((name, n) for name, n in self._new.items() if n.op in ops and name in self)
        return [found[name] for name in self if name in found]


# A mapping that builds Nodes on demand (ir.proto.ProtoNodes, EditedNodes) answers these itself.
def _op_of(nodes: Mapping[str, Node], name: str) -> str:
    op_of = getattr(nodes, "op_of", None)
    return op_of(name) if op_of is not None else nodes[name].op


def _attrs_of(nodes: Mapping[str, Node], name: str) -> Mapping[str, Any]:
    attrs_of = getattr(nodes, "attrs_of", None)
    return attrs_of(name) if attrs_of is not None else nodes[name].attrs


def _weight_of(nodes: Mapping[str, Node], name: str) -> str | None:
    weight_of = getattr(nodes, "weight_of", None)
    return weight_of(name) if weight_of is not None else nodes[name].weight


def _inputs_of(nodes: Mapping[str, Node], name: str) -> tuple[TensorRef, ...]:
    inputs_of = getattr(nodes, "inputs_of", None)
    return inputs_of(name) if inputs_of is not None else nodes[name].inputs
