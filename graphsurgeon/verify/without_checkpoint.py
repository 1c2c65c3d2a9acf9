"""How the reference run sets a variable the checkpoint does not restore.

Each variable runs the assignment its author's init ran: a restore from a
checkpoint it names (a TF-Hub module), fed the path where that checkpoint is
now; else the assignment of its initial value, the one freeze evaluates. The
reference graph is seeded (see runtime.seed_from_name), so random initializers
give the values ``--init-from-initializers`` froze.
"""
from __future__ import annotations

from pathlib import Path

from graphsurgeon.errors import GraphSurgeonError
from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.model import Model
from graphsurgeon.loaders.restore_on_init import local_prefix
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery import initializers


def initialization(source: Model, variable: str, recorded: tuple[str, str] | None,
                   weights: str | None) -> tuple[str, dict[str, str]]:
    """(the assign op that sets ``variable``, {restore prefix tensor: checkpoint path now}).

    ``recorded`` is the (prefix, key) of a checkpoint the variable is restored from at init, if any.
    """
    prefix = local_prefix(recorded[0], weights, Path(source.source.path).parent) if recorded else None
    if prefix is not None:
        assign, prefix_tensor = _restore_assign(source.graph, variable)
        return assign, {prefix_tensor: prefix}
    return _value_assign(source, variable), {}


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
        f"{source.source.path} has no checkpoint value for variable {variable!r} and no initializer to run; "
        "compare against the checkpoint prefix instead"
    )
