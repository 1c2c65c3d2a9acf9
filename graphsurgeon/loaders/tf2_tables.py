"""Hash tables a TF2 SavedModel's signatures capture, rebuilt in the flattened graph.

Freezing turns captured variables into constants, but a captured table stays a
resource Placeholder nothing feeds in Serving. A table restored with its
initializer (keys and values, or a vocabulary file in the SavedModel's
assets/) is rebuilt here: the Placeholder becomes a HashTableV2 (shared_name
its own name, so exports are repeatable) and the initializer's frozen nodes
are copied in under SCOPE, its vocabulary path read from the shipped asset's
tensor. The initializer is returned as an init op, which the export runs in
the ordered init op's table stage (ir/init_stages.py). A table whose
initializer reads anything else (a file outside assets/, a placeholder) is
left alone, and the loader refuses the signatures that read it.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.ops import FILE_READ_OPS, TABLE_INIT_OPS
from graphsurgeon.ir.proto import graph_from_proto
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.names import TensorRef
from graphsurgeon.tf.protos import pb
from graphsurgeon.tf.tf2_trace import CapturedResource

SCOPE = "graphsurgeon_tf2_tables"
RESOURCE = pb.types_pb2.DT_RESOURCE
# The resource-handle table initializers a copy can serve anywhere: constant keys and values, or a vocabulary
# file (its path re-pointed at the shipped asset). A dataset's files, or the V1 ops, are not copied.
COPYABLE_INIT_OPS = TABLE_INIT_OPS & {"InitializeTableV2", "LookupTableImportV2", "InitializeTableFromTextFileV2"}


def rebuilt_tables(graph: Graph, captured: Mapping[str, CapturedResource], assets: Mapping[str, TensorRef],
                   ) -> tuple[Graph, tuple[str, ...]]:
    """``graph`` with each captured hash table it can rebuild rebuilt, and their initializers (init ops).

    ``assets`` maps the source's asset filenames to the string tensors the loader feeds their paths to.
    """
    changes: dict[str, list[Node]] = {}
    init_ops = []
    for node in graph.of_ops({"Placeholder"}):
        resource = captured.get(node.name)
        if resource is None or resource.table is None:
            continue
        copied = _initializer(node.name, graph_from_proto(resource.initializer, node.name), assets)
        if copied is None:
            continue
        table = Node(node.name, "HashTableV2", attrs={**resource.table.attr,
                                                      "shared_name": pb.attr_value_pb2.AttrValue(s=node.name.encode())})
        changes[node.name] = [table, *copied]
        init_ops.append(copied[-1].name)
    return graph.edited(changes), tuple(init_ops)


def _initializer(table: str, init: Graph, assets: Mapping[str, TensorRef]) -> list[Node] | None:
    """The initializer's nodes renamed into the flattened graph (the init op last), or None if it reads more
    than constants and a shipped vocabulary file."""
    handles = [n for n in init.of_ops({"Placeholder"}) if n.attrs["dtype"].type == RESOURCE]
    ops = init.of_ops(COPYABLE_INIT_OPS)
    if len(handles) != 1 or len(ops) != 1 or len(init.of_ops({"Placeholder"})) != 1:
        return None
    op = ops[0]
    op = op.replace(inputs=tuple(init.source(ref) for ref in op.inputs))  # past the call's Identity chains
    if op.op == "InitializeTableFromTextFileV2":
        path = _shipped_path(init, op.inputs[1], assets)
        if path is None:
            return None
        op = op.replace(inputs=(op.inputs[0], path))
    needed = _upstream(init, op)
    if any(init[name].op in FILE_READ_OPS for name in needed if name != op.name):
        return None  # a path on the exporting machine
    scope = f"{SCOPE}/{table}/"

    def renamed(name: str) -> str:
        return table if name == handles[0].name else scope + ("init" if name == op.name else name)

    nodes = []
    for node in init:
        if node.name in needed and node.name != handles[0].name:
            node = op if node.name == op.name else node
            nodes.append(node.replace(
                name=renamed(node.name), device="",
                inputs=tuple(ref if ref.node not in init else TensorRef(renamed(ref.node), ref.port)
                             for ref in node.inputs),
                control_inputs=tuple(renamed(c) for c in node.control_inputs)))
    nodes.sort(key=lambda n: n.name == renamed(op.name))  # the init op last, the rest in source order
    return nodes


def _shipped_path(init: Graph, ref: TensorRef, assets: Mapping[str, TensorRef]) -> TensorRef | None:
    """The loader-fed tensor of the asset a vocabulary path constant names, if it is a shipped asset."""
    node = init[ref.node]
    if node.op != "Const":
        return None
    path = to_array(node.attrs["value"].tensor).item()
    name = os.path.basename(path.decode(errors="replace") if isinstance(path, bytes) else str(path))
    return assets.get(name)


def _upstream(graph: Graph, node: Node) -> set[str]:
    """Names of ``node`` and every node it depends on (data and control inputs)."""
    seen, stack = set(), [node.name]
    while stack:
        name = stack.pop()
        if name in seen or name not in graph:  # not in graph: a shipped asset's tensor, outside the initializer
            continue
        seen.add(name)
        stack.extend((node if name == node.name else graph[name]).input_nodes())
    return seen
