"""How a source without a checkpoint (a .meta alone) sets its variables, for the reference run.

Each variable runs the assignment its author's init ran: a restore from a
checkpoint it names (a TF-Hub module), fed the path where that checkpoint is
now; else the assignment of its initial value, the one freeze evaluates. The
graph is run seeded (see runtime.run_restored), so random initializers give the
values ``--init-from-initializers`` froze.
"""
from __future__ import annotations

from pathlib import Path

from graphsurgeon.errors import GraphSurgeonError
from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import VARIABLE_OPS
from graphsurgeon.loaders.restore_on_init import init_checkpoints, local_prefix
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery import initializers


def variable_initialization(source: Model, weights: str | None) -> tuple[list[str], dict[str, str]]:
    """(assign ops to run first, {restore prefix tensor: checkpoint path now}) for every variable
    the source's init ops do not already assign."""
    graph = source.graph
    assigned = {graph[op].inputs[0].node for op in source.init_ops if graph[op].inputs}
    restored = init_checkpoints(source)
    ops: list[str] = []
    feeds: dict[str, str] = {}
    for node in graph:
        if node.op not in VARIABLE_OPS or node.name in assigned:
            continue
        recorded = restored.get(node.name)
        prefix = local_prefix(recorded[0], weights, Path(source.source.path).parent) if recorded else None
        if prefix is not None:
            assign, prefix_tensor = _restore_assign(graph, node.name)
            ops.append(assign)
            feeds[prefix_tensor] = prefix
        else:
            ops.append(_value_assign(source, node.name))
    return ops, feeds


def _restore_assign(graph: Graph, variable: str) -> tuple[str, str]:
    """The Assign that restores ``variable`` at init, and the restore op's prefix tensor."""
    for consumer, slot in graph.data_consumers.get(TensorRef(variable), ()):
        node = graph[consumer]
        if slot == 0 and len(node.inputs) > 1:
            restore = graph[graph.source(node.inputs[1]).node]
            if restore.op.startswith("Restore"):
                return node.name, str(graph.source(restore.inputs[0]))
    raise GraphSurgeonError(f"variable {variable!r} names a checkpoint to restore at init but no op restores it")


def _value_assign(source: Model, variable: str) -> str:
    initial = initializers.initial_value_or_none(source, variable)
    for node in initializers.value_assigns(source.graph, variable):
        if node.inputs[1] == initial:
            return node.name
    raise GraphSurgeonError(
        f"{source.source.path} has no checkpoint and variable {variable!r} has no initializer to run; "
        "compare against the checkpoint prefix instead"
    )
