"""Values for variables that have none, computed by running their own initializers.

For .meta files and GraphDefs shipped without a checkpoint. Only the
initializer subgraphs of the requested variables are imported and run; unseeded
random initializers get seeds from their node names so output is repeatable.
"""
from __future__ import annotations

from collections.abc import Sequence

from graphsurgeon.errors import FreezeError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import INIT_ASSIGN_OPS, VARIABLE_OPS
from graphsurgeon.ir.proto import to_graph_def
from graphsurgeon.ir.variable_defs import from_variable_defs as _from_variable_defs
from graphsurgeon.ir.variable_defs import is_restore as _is_restore
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery.reach import reach
from graphsurgeon.tf import runtime


def evaluate(model: Model, variables: Sequence[str]) -> WeightStore:
    """The initial values of ``variables``, computed by TensorFlow (plan() has refused those it cannot run)."""
    graph = model.graph
    initial = {name: _initial_value(model, name) for name in variables}
    needed = reach(graph, list(initial.values())).kept
    subgraph = graph.with_nodes(graph.nodes_in(needed))
    try:
        values = runtime.run_graph(to_graph_def(subgraph, model.weights), [str(r) for r in initial.values()])
    except runtime.import_error() as err:
        raise FreezeError(f"running the initializers of {len(initial)} variable(s) failed: {err}") from err
    dtypes = {name: dt.base(graph[name].attrs["dtype"].type) for name in initial}
    return WeightStore.from_arrays(dict(zip(initial, values)), dtypes)


def _initial_value(model: Model, variable: str) -> TensorRef:
    ref = initial_value_or_none(model, variable)
    if ref is None:
        raise no_initializer_error(variable)
    return ref


def reads_variable(graph: Graph, initial: TensorRef) -> str | None:
    """The first variable (by name) an initial value's computation reads, if any: such an initializer
    depends on state, and graphsurgeon runs only independent ones."""
    stateful = sorted(n for n in reach(graph, [initial]).kept if graph.op_of(n) in VARIABLE_OPS)
    return stateful[0] if stateful else None


def no_initializer_error(variable: str) -> FreezeError:
    return FreezeError(
        f"variable {variable!r} has no value and no initializer in the graph; supply a checkpoint with its value")


def stateful_initializer_error(variable: str, read: str) -> FreezeError:
    return FreezeError(
        f"the initializer of {variable!r} reads variable {read!r}; graphsurgeon runs initializers only when they "
        "are independent - supply a checkpoint instead")


def initial_value_or_none(model: Model, variable: str) -> TensorRef | None:
    """The tensor a variable is initialised from, never a restore: an init op's assignment (what the
    graph runs at init), else its VariableDef's, else any assignment that is not a restore.

    A TF-Hub module replaces the VariableDef's initial value by a restore (checkpoint_initializer);
    the original initializer is still assigned in the graph, and this finds it.
    """
    graph = model.graph
    assigns = value_assigns(graph, variable)
    init = set(model.init_ops)
    for node in assigns:
        if node.name in init:
            return node.inputs[1]
    ref = _from_variable_defs(model, variable)
    if ref is not None and ref.node in graph and not _is_restore(graph, ref):
        return ref
    return assigns[0].inputs[1] if assigns else None


def value_assigns(graph: Graph, variable: str) -> list[Node]:
    """Assignments of the variable's whole value that are not restores, in graph order."""
    out = []
    for consumer, slot in graph.data_consumers.get(TensorRef(variable), ()):
        node = graph[consumer]
        if slot == 0 and node.op in INIT_ASSIGN_OPS and not _is_restore(graph, node.inputs[1]):
            out.append(node)
    return out
