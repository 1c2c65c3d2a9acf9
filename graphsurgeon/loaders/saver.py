"""Which checkpoint key restores which variable, read from the saver's ops.

A TF1 Saver restores each variable with Assign(var, RestoreV2:k) (or
AssignVariableOp on its handle), and RestoreV2's tensor_names constant holds
the key for output k. Keys usually equal variable names, but a Saver built
from a dict or a renamed scope breaks that, so the graph is the authority.
"""
from __future__ import annotations

from typing import Any

from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.ops import INIT_ASSIGN_OPS, RESTORE_OPS
from graphsurgeon.loaders.init_ops import expand_groups
from graphsurgeon.names import TensorRef



def variable_keys(graph: Graph, saver_def: Any = None) -> dict[str, str]:
    """Variable node name -> checkpoint key, for every variable the saver restores whole.

    The assigns are those the SaverDef's restore op runs, when the graph has it;
    else every assign in the graph (one reading a restore op's output is a restore).
    """
    keys: dict[str, str] = {}
    names_by_restore: dict[str, list[str | None]] = {}  # decoded once per restore op, not per variable
    for name in _assigns(graph, saver_def):
        inputs = graph.inputs_of(name)  # the assign unbuilt: a cut removes all of them
        if len(inputs) < 2:
            continue
        restored = _restore_output(graph, inputs[1])
        if restored is None:
            continue
        restore, port = restored
        names = names_by_restore.get(restore)
        if names is None:
            names = names_by_restore[restore] = _whole_tensor_names(graph, graph[restore])
        key = names[port] if port < len(names) else None
        if key is not None:
            keys[inputs[0].node] = key
    return keys


def _assigns(graph: Graph, saver_def: Any) -> list[str]:
    """The assigns the saver's restore op groups (half of a trained graph's assigns are initializers)."""
    restore_op = saver_def.restore_op_name.split(":")[0] if saver_def is not None else ""
    if restore_op not in graph:
        return [name for name, op in graph.name_ops() if op in INIT_ASSIGN_OPS]
    return [name for name in expand_groups(graph, [restore_op]) if graph.op_of(name) in INIT_ASSIGN_OPS]


def _restore_output(graph: Graph, ref: TensorRef) -> tuple[str, int] | None:
    """(restore op, output) that ``ref`` passes along through Identity nodes, if it is one."""
    if graph.op_of(ref.node) not in RESTORE_OPS:  # the saver's assigns read the restore op itself
        ref = graph.source(ref)
        if graph.op_of(ref.node) not in RESTORE_OPS:
            return None
    return ref.node, ref.port


def _whole_tensor_names(graph: Graph, restore: Node) -> list[str | None]:
    """The key each output of a restore op reads; None for slices of partitioned variables."""
    if len(restore.inputs) < 2:
        return []  # a damaged restore op: the per-node checks name it where it is used
    names = _const_strings(graph, restore.inputs[1]) or []
    slices = _const_strings(graph, restore.inputs[2]) if restore.op != "Restore" and len(restore.inputs) > 2 else None
    return [None if slices and i < len(slices) and slices[i] else name for i, name in enumerate(names)]


def _const_strings(graph: Graph, ref: TensorRef) -> list[str] | None:
    node = graph.get(ref.node)
    if node is None or node.op != "Const":
        return None
    return [s.decode("utf-8", "replace") for s in node.attrs["value"].tensor.string_val]
