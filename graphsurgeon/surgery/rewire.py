"""Redirecting consumers from one tensor to another, the step every rewrite shares."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.names import TensorRef


def follow(mapping: Mapping[TensorRef, TensorRef], ref: TensorRef) -> TensorRef:
    """Where ``ref`` ends up after applying ``mapping`` repeatedly (chains of removed nodes)."""
    seen = set()
    while ref in mapping and ref not in seen:
        seen.add(ref)
        ref = mapping[ref]
    return ref


def rewired(graph: Graph, mapping: Mapping[TensorRef, TensorRef], drop: Iterable[str] = (),
            control_mapping: Mapping[str, str | None] | None = None) -> Graph:
    """A graph whose consumers read through ``mapping``, without the ``drop`` nodes.

    ``control_mapping`` moves (name) or removes (None) control inputs.
    """
    drop = set(drop)
    control_mapping = control_mapping or {}
    nodes: list[Node] = []
    for node in graph:
        if node.name in drop:
            continue
        inputs = node.inputs
        if mapping and not mapping.keys().isdisjoint(inputs):
            inputs = tuple(follow(mapping, ref) for ref in inputs)
        controls = node.control_inputs
        if controls:
            controls = tuple(dict.fromkeys(_moved(controls, control_mapping)))
        if inputs != node.inputs or controls != node.control_inputs:
            node = node.replace(inputs=inputs, control_inputs=controls)
        nodes.append(node)
    return graph.with_nodes(nodes)


def _moved(controls: Iterable[str], control_mapping: Mapping[str, str | None]) -> list[str]:
    """Control inputs after ``control_mapping`` moved (name) or removed (None) them."""
    moved: list[str] = []
    for control in controls:
        name: str | None = control
        while name is not None and name in control_mapping:
            name = control_mapping[name]
        if name is not None:
            moved.append(name)
    return moved
