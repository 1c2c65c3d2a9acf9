"""What a cut keeps and what it removes, and why each removable node goes."""
from __future__ import annotations

from collections.abc import Sequence

from graphsurgeon.ir.model import Model
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery.reach import reach, reach_with_init
from graphsurgeon.surgery.training import is_training_only, removal_group

KEPT = "kept"
TRAINING_ONLY = "training only"
UPSTREAM_OF_INPUTS = "upstream of the inputs"
NOT_NEEDED = "not needed by the outputs"
TRAINING_GROUPS = frozenset({"optimizer state", "gradients", "saver", "summaries", "optimizer updates"})


def classify(model: Model, inputs: Sequence[TensorRef], outputs: Sequence[TensorRef],
             kept: frozenset[str] | None = None) -> dict[str, str]:
    """Node name -> KEPT or the reason it is removable. Without outputs everything is kept.

    ``kept`` is a Plan's kept set (the audit of a traced model passes it)."""
    if not outputs:
        return {name: KEPT for name in model.graph.names}
    if kept is None:
        kept = reach_with_init(model.graph, model.init_ops, outputs, inputs)[0].kept
    kept |= {r.node for r in inputs if r.port == 0}  # each port-0 input becomes a Placeholder of that name
    upstream = reach(model.graph, inputs).kept if inputs else frozenset()
    reasons = {}
    for node in model.graph:
        if node.name in kept:
            reasons[node.name] = KEPT
        elif is_training_only(node) or removal_group(node.name, node.op) in TRAINING_GROUPS:
            reasons[node.name] = TRAINING_ONLY
        elif node.name in upstream:
            reasons[node.name] = UPSTREAM_OF_INPUTS
        else:
            reasons[node.name] = NOT_NEEDED
    return reasons
