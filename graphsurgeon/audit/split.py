"""What a cut keeps and what it removes, and why each removed node goes.

The kept side is the model ``cut`` would write: the Plan applied (freeze, cut,
strip) with its weights left unread, so audit and cut count the same nodes
and bytes. Models a cut cannot be applied to (a refused plan, variables
without values, a Keras file read without Keras) are split by the plan's
sweep, or by reachability alone.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from graphsurgeon.errors import GraphSurgeonError
from graphsurgeon.ir.model import Model
from graphsurgeon.names import TensorRef
from graphsurgeon.plan import Plan
from graphsurgeon.surgery.reach import reach, reach_with_init
from graphsurgeon.surgery.training import is_training_only, removal_group

KEPT = "kept"
TRAINING_ONLY = "training only"
UPSTREAM_OF_INPUTS = "upstream of the inputs"
NOT_NEEDED = "not needed by the outputs"
STRIPPED = "stripped by the cut"  # a pass-through Identity, or a resource handle frozen into its reads
TRAINING_GROUPS = frozenset({"optimizer state", "gradients", "saver", "summaries", "optimizer updates"})


@dataclass(frozen=True)
class Split:
    """Every source node's fate, and the model the cut writes (None when the cut could not be applied)."""

    reasons: dict[str, str]  # source node -> KEPT or why it goes
    result: Model | None
    refused: GraphSurgeonError | None = None  # what applying the plan refused (a constant pinning the batch)


def split_planned(planned: Plan) -> Split:
    """The Plan as cut applies it: freeze (lazy), cut, strip. No weight is read; TensorFlow is imported only
    where the cut itself needs it (shape inference for a relaxed batch).

    Variables without a checkpoint value would need their initializers run
    (TensorFlow), so such plans, plans a cut or freeze refuses (their
    problems) and plans whose application is refused (``refused``: a constant
    pinning a relaxed batch) are split by the plan's own sweep.
    """
    model = planned.model
    kept = planned.kept
    result, refused = None, None
    if not planned.problems and not planned.freezing.computed:
        try:
            with _cut_warnings_held():
                result = planned.apply()
            kept = frozenset(result.graph.names)
        except GraphSurgeonError as err:
            refused = err
    reasons = classify(model, planned.input_refs, planned.outputs, kept)
    if result is None:
        return Split(reasons, None, refused)
    for name in planned.kept - kept:
        reasons[name] = STRIPPED
    return Split(reasons, result)


@contextlib.contextmanager
def _cut_warnings_held() -> Iterator[None]:
    """The cut's own warnings (a fixed batch, an Assign read as a value) are for the run that writes it;
    the audit reports risks its own way. Shown with -v."""
    logger = logging.getLogger("graphsurgeon.surgery")
    level = logger.level
    if not logger.isEnabledFor(logging.INFO):
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def classify(model: Model, inputs: Sequence[TensorRef], outputs: Sequence[TensorRef],
             kept: frozenset[str] | None = None) -> dict[str, str]:
    """Node name -> KEPT or the reason it is removable. Without outputs everything is kept.

    ``kept`` is what the cut keeps (a Plan's sweep, or the nodes of its applied result)."""
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
