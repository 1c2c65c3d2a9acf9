"""Which nodes exist only for training: gradients, optimizer updates, summaries, the saver."""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence

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
    return _group(name.split("/", 1)[0], op, "/" in name, OPTIMIZER_SLOT.search(name) is not None)


def removal_groups(nodes: Sequence[tuple[str, str]]) -> list[str]:
    """removal_group of each (name, op), for the up to 1M nodes a cut may remove. Labels are kept per call:
    _group's bounded cache thrashes on the tens of thousands of (scope, op) pairs of a graph that size."""
    search = OPTIMIZER_SLOT.search
    labels: dict[tuple[str, str, bool, bool], str] = {}
    out = []
    for name, op in nodes:
        key = (name.partition("/")[0], op, "/" in name, search(name) is not None)
        label = labels.get(key)
        if label is None:
            label = labels[key] = _group(*key)
        out.append(label)
    return out


@functools.lru_cache(maxsize=4096)
def _group(scope: str, op: str, scoped: bool, optimizer_slot: bool) -> str:
    if optimizer_slot or scope == "optimizer_weights":
        return "optimizer state"
    if GRADIENTS_SCOPE.fullmatch(scope):
        return "gradients"
    if SAVER_SCOPE.fullmatch(scope):
        return "saver"
    if op in SUMMARY_OPS or scope == "summaries":
        return "summaries"
    if op.startswith(OPTIMIZER_PREFIXES):
        return "optimizer updates"
    return scope + "/" if scoped else "(top level)"
