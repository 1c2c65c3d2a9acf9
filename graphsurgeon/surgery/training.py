"""Which nodes exist only for training: gradients, optimizer updates, summaries, the saver."""
from __future__ import annotations

import re

from graphsurgeon.ir.graph import Node
from graphsurgeon.ir.ops import OPTIMIZER_PREFIXES

SUMMARY_OPS = frozenset({
    "ScalarSummary", "HistogramSummary", "ImageSummary", "AudioSummary", "AudioSummaryV2",
    "TensorSummary", "TensorSummaryV2", "MergeSummary", "WriteSummary", "WriteScalarSummary",
    "WriteHistogramSummary", "WriteImageSummary", "WriteAudioSummary", "WriteRawProtoSummary",
    "FlushSummaryWriter", "CreateSummaryFileWriter", "SummaryWriter",
})
# Top-level scopes TF1 puts training machinery in: gradients, gradients_1, save, save_1, ...
TRAINING_SCOPE = re.compile(r"(gradients|save)(_\d+)?|train|summaries|optimizer_weights")


def is_training_only(node: Node) -> bool:
    """True for nodes no inference output needs: a cut follows no control edge to them."""
    if node.op in SUMMARY_OPS or node.op.startswith(OPTIMIZER_PREFIXES):
        return True
    return TRAINING_SCOPE.fullmatch(node.name.split("/", 1)[0]) is not None


# Any name-scope part that is an optimizer's slot or state (one search per name).
OPTIMIZER_SLOT = re.compile(
    r"(?:^|/)(?:(?:Adam|AdamW|Momentum|RMSProp|Adagrad|Adadelta|Ftrl|Nadam|Adamax)|beta[12]_power|global_step)"
    r"(?:_\d+)?(?:/|$)"
)


GRADIENTS_SCOPE = re.compile(r"gradients(_\d+)?")
SAVER_SCOPE = re.compile(r"save(_\d+)?")


def removal_group(name: str, op: str) -> str:
    """A label for why a removed node (``name``, ``op``) was there: a training role, else its top-level scope."""
    scope = name.split("/", 1)[0]
    if OPTIMIZER_SLOT.search(name) or scope == "optimizer_weights":
        return "optimizer state"
    if GRADIENTS_SCOPE.fullmatch(scope):
        return "gradients"
    if SAVER_SCOPE.fullmatch(scope):
        return "saver"
    if op in SUMMARY_OPS or scope == "summaries":
        return "summaries"
    if op.startswith(OPTIMIZER_PREFIXES):
        return "optimizer updates"
    return scope + "/" if "/" in name else "(top level)"
