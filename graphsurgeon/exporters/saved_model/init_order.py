"""One init op whose parts run in a guaranteed order, enforced by control dependencies.

TensorFlow builds init ops with tf.group, which imposes no order: a table
initializer can read its path variable before the variable is assigned, and
Serving fails with "Attempting to use uninitialized value" (tensorflow/serving#1437).
Here every op of stage k waits, through a control edge, for all of stage k-1:

  1. variables that are not restored from variables/
  2. asset-path variables and other path assignments
  3. table initializers
  4. anything else the source's init ops did
"""
from __future__ import annotations

from collections.abc import Sequence

from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.init_stages import STAGE_NAMES, stage_of

INIT_SCOPE = "graphsurgeon_init"
INIT_OP = f"{INIT_SCOPE}/init"
def ordered_init(graph: Graph, init_ops: Sequence[str], asset_tensors: set[str]) -> Graph:
    """Add the staged init op (named INIT_OP; a NoOp when there is nothing to run)."""
    stages: list[list[str]] = [[] for _ in STAGE_NAMES]
    for name in init_ops:
        stages[stage_of(graph, name, asset_tensors)].append(name)
    waits_for: dict[str, str] = {}
    new_nodes: list[Node] = []
    previous: str | None = None
    for label, members in zip(STAGE_NAMES, stages):
        if not members:
            continue
        if previous is not None:
            waits_for.update({m: previous for m in members})
        done = Node(f"{INIT_SCOPE}/{label}_done", "NoOp", control_inputs=tuple(members) + ((previous,) if previous else ()))
        new_nodes.append(done)
        previous = done.name
    new_nodes.append(Node(INIT_OP, "NoOp", control_inputs=(previous,) if previous else ()))
    nodes = [n.replace(control_inputs=n.control_inputs + (waits_for[n.name],)) if n.name in waits_for else n
             for n in graph]
    return graph.with_nodes([*nodes, *new_nodes])
