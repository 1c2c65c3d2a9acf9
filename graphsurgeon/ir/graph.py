"""Node and Graph: the dataflow graph every stage reads and rebuilds.

A Graph is immutable. Stages build a new one from new Nodes; indexes derived
from the nodes (consumers, the networkx view) are computed on demand and never
edited by hand, so a node's inputs live in exactly one place.
"""
from __future__ import annotations

import functools
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from graphsurgeon.ir.ops import NEXT_ITERATION_OPS
from graphsurgeon.names import TensorRef

if TYPE_CHECKING:
    import networkx as nx

_NO_ATTRS: Mapping[str, Any] = MappingProxyType({})


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
        self._nodes: dict[str, Node] = {}
        for node in nodes:
            self._nodes[node.name] = node
        self.library = library
        self.versions = versions

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    def __getitem__(self, name: str) -> Node:
        return self._nodes[name]

    def get(self, name: str) -> Node | None:
        return self._nodes.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._nodes)

    def with_nodes(self, nodes: Iterable[Node]) -> "Graph":
        """A graph with the same library and versions but other nodes."""
        return Graph(nodes, self.library, self.versions)

    def source(self, ref: TensorRef, through: Iterable[str] = ("Identity",)) -> TensorRef:
        """The tensor behind ``ref`` once pass-through ops (Identity by default) are looked through."""
        through = frozenset(through)
        seen = set()
        node = self._nodes[ref.node]
        while node.op in through and node.inputs and ref not in seen:
            seen.add(ref)
            ref = node.inputs[0]
            node = self._nodes[ref.node]
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
