"""Folding Switches whose predicate is a constant, with TensorFlow's dead-tensor rules.

A Switch forwards its data to port 1 if the predicate is true, else to port 0;
the other port is dead. A node with a dead data or control input is dead,
except Merge, which forwards whichever input is alive. Only conds in the root
frame are folded: a loop's Switch is driven by LoopCond, never a constant.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.ops import MERGE_OPS, SWITCH_OPS
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.ir.types import output_dtypes
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery import frames
from graphsurgeon.surgery.rewire import rewired


def constant_bool(graph: Graph, ref: TensorRef) -> bool | None:
    """The value of a scalar bool tensor that is a Const, looking through Identity."""
    node = graph[graph.source(ref).node]
    if node.op != "Const" or node.weight is not None:
        return None
    array = to_array(node.attrs["value"].tensor)
    if array.dtype != np.bool_ or array.size != 1:
        return None
    return bool(array.reshape(()))


def fold_constant_switches(graph: Graph) -> Graph:
    frame = frames.node_frames(graph) if frames.has_loops(graph) else {}
    mapping: dict[TensorRef, TensorRef] = {}
    dead_tensors: list[TensorRef] = []
    for node in graph:
        if node.op not in SWITCH_OPS or frame.get(node.name, frames.ROOT) != frames.ROOT:
            continue
        value = constant_bool(graph, node.inputs[1])
        if value is None:
            continue
        mapping[TensorRef(node.name, int(value))] = node.inputs[0]
        dead_tensors.append(TensorRef(node.name, int(not value)))
    if not mapping:
        return graph
    dead, merges = _propagate_dead(graph, dead_tensors)
    index_consts = _merge_index_consts(graph, merges)
    mapping.update({TensorRef(name, 1): TensorRef(c.name) for name, c in index_consts.items()})
    nodes = [_as_identity(n, merges[TensorRef(n.name)]) if TensorRef(n.name) in merges else n
             for n in graph if n.name not in dead]
    folded = graph.with_nodes([*nodes, *index_consts.values()])
    return rewired(folded, mapping, control_mapping={name: None for name in dead})


def _as_identity(merge: Node, live: TensorRef) -> Node:
    """A Merge with one live input is an Identity of it (keeping its name for outputs)."""
    return Node(merge.name, "Identity", (live,), merge.control_inputs, {"T": merge.attrs["T"]}, merge.device)


def _propagate_dead(graph: Graph, dead_tensors: list[TensorRef]) -> tuple[set[str], dict[TensorRef, TensorRef]]:
    """Dead nodes, and each Merge left with exactly one live input -> that input."""
    dead: set[str] = set()
    dead_refs = set(dead_tensors)
    merges: dict[TensorRef, TensorRef] = {}
    queue = deque(dead_tensors)
    while queue:
        ref = queue.popleft()
        for name in _consumers_of_dead(graph, ref, dead):
            node = graph[name]
            if node.op in MERGE_OPS:
                live = [r for r in node.inputs if r not in dead_refs]
                if len(live) == 1:
                    merges[TensorRef(name, 0)] = live[0]
                if live:
                    continue
                merges.pop(TensorRef(name, 0), None)
            dead.add(name)
            outputs = [TensorRef(name, p) for p in range(max(1, len(output_dtypes(node, graph))))]
            dead_refs.update(outputs)
            queue.extend(outputs)
    return dead, merges


def _consumers_of_dead(graph: Graph, ref: TensorRef, dead: set[str]) -> list[str]:
    """Live nodes reading ``ref``, plus control consumers when its whole node is dead."""
    names = [name for name, _ in graph.data_consumers.get(ref, ())]
    if ref.port == 0 and ref.node in dead:
        names += [c for c in graph.consumers.get(ref.node, ()) if ref.node in graph[c].control_inputs]
    return [n for n in dict.fromkeys(names) if n not in dead]


def _merge_index_consts(graph: Graph, merges: dict[TensorRef, TensorRef]) -> dict[str, Node]:
    """A Merge's value_index output (port 1) becomes the constant index of its live input."""
    out = {}
    for merge_ref, live in merges.items():
        if TensorRef(merge_ref.node, 1) not in graph.data_consumers:
            continue
        index = list(graph[merge_ref.node].inputs).index(live)
        out[merge_ref.node] = const_node(merge_ref.node + "/folded_index", np.int32(index), dt.enum_of("int32"))
    return out
