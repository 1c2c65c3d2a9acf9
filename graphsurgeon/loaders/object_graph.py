"""A TF2 SavedModel's variables by checkpoint key, from its object graph.

TF2 saves variables under object paths (``layer/kernel/.ATTRIBUTES/VARIABLE_VALUE``,
Keras 3: ``variables/0/.ATTRIBUTES/...``), not under their names, and its
restore runs inside a function the saver's graph walk cannot see. The
SavedObjectGraph gives each variable object its name and its path from the
root; the path is the key.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from typing import Any

from graphsurgeon.ir.graph import Graph

VALUE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"


def variable_keys_from_objects(meta: Any, graph: Graph, keys: Collection[str]) -> dict[str, str]:
    """VarHandleOp node name -> checkpoint key, for variables whose key is in ``keys``."""
    nodes = meta.object_graph_def.nodes
    if not nodes:
        return {}
    by_shared_name: dict[str, str] = {}
    for node in graph:
        if node.op == "VarHandleOp":
            shared = node.attrs["shared_name"].s.decode() if "shared_name" in node.attrs else ""
            by_shared_name.setdefault(shared or node.name, node.name)
    found: dict[str, str] = {}
    for node_id, path in _paths(nodes):
        obj = nodes[node_id]
        if obj.WhichOneof("kind") != "variable":
            continue
        key = path + VALUE_SUFFIX
        handle = by_shared_name.get(obj.variable.name)
        if handle is not None and handle not in found and key in keys:
            found[handle] = key
    return found


def saved_variable_keys(meta: Any) -> list[str]:
    """The checkpoint key of every variable object in a TF2 SavedModel's object graph, in path order."""
    nodes = meta.object_graph_def.nodes
    if not nodes:
        return []
    return [path + VALUE_SUFFIX for node_id, path in _paths(nodes) if nodes[node_id].WhichOneof("kind") == "variable"]


def _paths(nodes: Sequence[Any]) -> list[tuple[int, str]]:
    """Every object reachable from the root with its first path in breadth-first order, as TF names it."""
    seen, order, queue = {0}, [], deque([(0, "")])
    while queue:
        node_id, path = queue.popleft()
        order.append((node_id, path))
        for child in nodes[node_id].children:
            if child.node_id not in seen:
                seen.add(child.node_id)
                queue.append((child.node_id, f"{path}/{_escape(child.local_name)}".lstrip("/")))
    return order


def _escape(local_name: str) -> str:
    return local_name.replace(".", "..").replace("/", ".S")
