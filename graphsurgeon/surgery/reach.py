"""The backward sweep from outputs that decides what a cut keeps.

An explicit worklist, no recursion: it stops at the cut's input tensors and
does not follow control edges into training-only nodes (a train_op or
summary hanging off an inference node would otherwise drag the optimizer in).
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.ops import INIT_ASSIGN_OPS, VARIABLE_OPS
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery.training import is_training_only


@dataclass(frozen=True)
class Reach:
    kept: frozenset[str]
    parent: dict[str, str]  # node -> the kept node that first needed it: one path back to an output
    used_inputs: frozenset[TensorRef]

    def path_to(self, name: str) -> list[str]:
        """Output-first chain of node names ending at ``name``."""
        path = [name]
        while path[-1] in self.parent:
            path.append(self.parent[path[-1]])
        return path[::-1]


def reach(graph: Graph, outputs: Iterable[TensorRef], inputs: Collection[TensorRef] = (),
          stop_nodes: Collection[str] = ()) -> Reach:
    """Nodes the outputs need, not looking past ``inputs`` tensors or ``stop_nodes``."""
    sweep = _Sweep(graph, inputs, stop_nodes)
    sweep.extend(outputs)
    return sweep.result()


class _Sweep:
    """One backward walk that can be given more roots as it goes: each node is visited once."""

    def __init__(self, graph: Graph, inputs: Collection[TensorRef], stop_nodes: Collection[str] = ()):
        self.graph, self.inputs, self.stop_nodes = graph, frozenset(inputs), stop_nodes
        # A port-0 input's Placeholder takes its node's name, so a control edge to
        # that name is satisfied by the Placeholder and must not reach upstream.
        self.replaced = {ref.node for ref in self.inputs if ref.port == 0}
        self.kept: set[str] = set()
        self.parent: dict[str, str] = {}
        self.used: set[TensorRef] = set()

    def extend(self, outputs: Iterable[TensorRef]) -> None:
        stack = []
        for ref in outputs:
            if ref in self.inputs:
                self.used.add(ref)
            else:
                stack.append(ref.node)
        kept, parent, inputs, graph = self.kept, self.parent, self.inputs, self.graph
        while stack:
            name = stack.pop()
            if name in kept:
                continue
            kept.add(name)
            node = graph[name]
            for ref in node.inputs:
                if ref in inputs:
                    self.used.add(ref)
                elif ref.node not in kept and ref.node not in self.stop_nodes:
                    parent.setdefault(ref.node, name)
                    stack.append(ref.node)
            for src in node.control_inputs:
                if src in kept or src in self.stop_nodes or src in self.replaced:
                    continue
                if not is_training_only(graph[src]):
                    parent.setdefault(src, name)
                    stack.append(src)

    def result(self) -> Reach:
        return Reach(frozenset(self.kept), dict(self.parent), frozenset(self.used))




def relevant_init_ops(graph: Graph, init_ops: Iterable[str], kept: Collection[str],
                      stays_variable: Callable[[str], bool] | None = None) -> list[str]:
    """Init ops that act on something kept: a table or other resource a kept node made, or a
    kept variable that is still a variable (frozen ones get their value from the checkpoint).
    ``stays_variable`` says which variables a freeze that follows will leave as variables."""
    out = []
    for name in init_ops:
        node = graph.get(name)
        if node is None or not node.inputs:
            continue
        if node.op in INIT_ASSIGN_OPS:
            target = graph[node.inputs[0].node]
            if target.name in kept and target.op in VARIABLE_OPS and (stays_variable is None or stays_variable(target.name)):
                out.append(name)
        elif any(graph.source(ref).node in kept for ref in node.inputs):
            out.append(name)
    return out


def reach_with_init(graph: Graph, init_ops: Iterable[str], outputs: Iterable[TensorRef],
                    inputs: Collection[TensorRef] = (),
                    stays_variable: Callable[[str], bool] | None = None) -> tuple[Reach, list[str]]:
    """What the outputs need, plus the init ops for what they keep, until nothing changes (a
    table initializer keeps a path variable, whose assignment is an init op too). One sweep:
    each init op found extends the same walk."""
    init_ops = list(init_ops)
    sweep = _Sweep(graph, inputs)
    sweep.extend(outputs)
    kept_init: list[str] = []
    while True:
        found = relevant_init_ops(graph, init_ops, sweep.kept, stays_variable)
        new = [name for name in found if name not in kept_init]
        if not new:
            return sweep.result(), found
        kept_init = found
        sweep.extend(TensorRef(name) for name in new)
