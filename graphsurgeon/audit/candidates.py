"""Which tensors of a graph a user would cut at: the feeds a client sends, the results it fetches.

A training graph has thousands of sinks and dozens of feeds that are not
model inputs or outputs: initializers and their checks, the saver, summaries,
asserts, resource captures of inlined functions, loop counters. These rules
drop them, so what inspect lists is what `--inputs`/`--outputs` should name.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import READS, RESTORE_OPS, SHAPE_ATTR_OPS, UNFED_SOURCE_OPS, VARIABLE_OPS, updates_state
from graphsurgeon.ir.signatures import tensor_names
from graphsurgeon.ir.types import output_dtypes
from graphsurgeon.loaders.tf2 import calls_functions
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery import frames
from graphsurgeon.surgery.training import SUMMARY_OPS, is_training_only

FEED_OPS = UNFED_SOURCE_OPS | SHAPE_ATTR_OPS
# Sinks that check, save, initialise or describe rather than compute a result.
NOT_OUTPUT_OPS = frozenset({
    "NoOp", "Assert", "Print", "PrintV2", "Const", "SaveV2", "Save", "SaveSlices", "MergeV2Checkpoints",
    "ShardedFilename", "VarIsInitializedOp", "IsVariableInitialized",
    "Shape", "ShapeN", "Rank", "Size", "ReadVariableOp", "ControlTrigger", "IteratorToStringHandle",
    "MakeIterator", "OneShotIterator", "IteratorV2", "Iterator", "AnonymousIterator", "AnonymousIteratorV2",
}) | FEED_OPS | VARIABLE_OPS | SUMMARY_OPS | RESTORE_OPS
INIT_CHECK_OPS = frozenset({"VarIsInitializedOp", "IsVariableInitialized"})
# Functional control flow adds an Identity per output; unused ones are loop counters and gradient intermediates.
FUNCTIONAL_FLOW_OPS = frozenset({"If", "StatelessIf", "While", "StatelessWhile", "Case", "StatelessCase"})
# Name parts that TensorFlow gives the inlined copy of a function (its call node, or the function itself).
FUNCTION_COPY = re.compile(r".*PartitionedCall(_\d+)?|__inference_.*|__forward_.*|__backward_.*")
NOT_A_VALUE = frozenset({dt.enum_of("resource"), dt.enum_of("variant")})
# Image encoders: in a training graph they turn tensors into summary images.
IMAGE_ENCODE_OPS = frozenset({"EncodePng", "EncodeJpeg", "EncodeJpegVariableQuality", "EncodeGif", "EncodeWav"})
# Names of losses and metrics, in any scope part (the scalars a trainer watches).
SIDE_RESULT_NAME = re.compile(r"(?:^|/|_)(?:loss|losses|cost|xent|cross_entropy|metrics?|accuracy|auc|precision|"
                              r"recall|update_op)(?:_\d+)?(?:/|$)", re.IGNORECASE)
# Python operator names TensorFlow gives ops whose type is spelled otherwise (a + b is "add" for AddV2).
DEFAULT_OP_NAMES = frozenset({"add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "neg", "stack", "unstack",
                              "read"})


@dataclass(frozen=True)
class FunctionCopy:
    """Feeds inside one inlined function's scope, shown as one row."""

    scope: str
    count: int


def candidate_inputs(model: Model) -> tuple[list[tuple[Node, int]], list[FunctionCopy]]:
    """Top-level feeds as (node, port), and the feeds of function copies grouped by scope."""
    graph = model.graph
    skipped = _machinery_feeds(model)
    frame = frames.node_frames(graph) if frames.has_loops(graph) else {}
    feeds: list[tuple[Node, int]] = []
    copies: dict[str, int] = {}
    for node in graph:
        if node.op not in FEED_OPS or node.name in skipped or frame.get(node.name, frames.ROOT) != frames.ROOT:
            continue
        ports = [p for p, dtype in enumerate(output_dtypes(node, graph)) if dt.base(dtype) not in NOT_A_VALUE]
        scope = _function_copy_scope(node.name, graph)
        if scope is not None and ports:
            copies[scope] = copies.get(scope, 0) + len(ports)
            continue
        feeds.extend((node, port) for port in ports)
    return feeds, [FunctionCopy(scope, count) for scope, count in copies.items()]


def _machinery_feeds(model: Model) -> set[str]:
    """Feeds that the saver and the asset loader own (a checkpoint path, an asset's path)."""
    names = {a.tensor.node for a in model.assets}
    if model.saver_def is not None and model.saver_def.filename_tensor_name:
        names.add(TensorRef.parse(model.saver_def.filename_tensor_name).node)
    return names | {n.name for n in model.graph if n.op in FEED_OPS and is_training_only(n)}


def _function_copy_scope(name: str, graph: Graph) -> str | None:
    parts = name.split("/")[:-1]
    for i, part in enumerate(parts):
        if FUNCTION_COPY.fullmatch(part) or _is_function(part, graph):
            return "/".join(parts[: i + 1])
    return None


def _is_function(part: str, graph: Graph) -> bool:
    library = graph.library
    return library is not None and any(f.signature.name == part for f in library.function)


def candidate_outputs(model: Model) -> tuple[list[str], list[str]]:
    """(results, side results): what a user would name in --outputs, and the losses, metrics and summary
    images a training graph also computes (listed after them).

    The results are the signatures' outputs when the model has signatures (its
    author chose them), else the outputs the model names (a Keras file's output
    layers, a cut's outputs), else the sinks that compute a result. A TF2
    SavedModel's signature outputs are function calls, not names a cut takes:
    it has none here (inspect lists its signatures).
    """
    if calls_functions(model):
        return [], []
    named = [_short(TensorRef.parse(t)) for key, sig in sorted(model.signatures.items()) if not key.startswith("__")
             for t in tensor_names(sig, outputs_only=True)]
    named = named or [_short(ref) for ref in model.outputs]
    if named:
        return list(dict.fromkeys(named)), []
    graph = model.graph
    init = set(model.init_ops)
    checks = graph.downstream([n.name for n in graph if n.op in INIT_CHECK_OPS])
    frame = frames.node_frames(graph) if frames.has_loops(graph) else {}
    sinks = [node for node in _sinks(graph)
             if node.name not in init and node.name not in checks and frame.get(node.name, frames.ROOT) == frames.ROOT
             and _computes_result(node, graph)]
    side = [node.name for node in sinks if _is_side_result(node, graph)]
    results = [node.name for node in sinks if node.name not in side]
    if side:  # a training graph whose sinks are its loss: the model's outputs are the named ends of its scopes
        results += [name for name in _named_scope_ends(graph, frame) if name not in results]
    return results, side


def _is_side_result(node: Node, graph: Graph) -> bool:
    """A loss, a metric or an image encoded for a summary: computed while training, not served."""
    if node.op in IMAGE_ENCODE_OPS:
        return True
    if SIDE_RESULT_NAME.search(node.name):
        return True
    consumers = graph.consumers.get(node.name, ())
    return bool(consumers) and all(graph[c].op in SUMMARY_OPS for c in consumers)  # a summarized scalar


def _named_scope_ends(graph: Graph, frame: dict[str, str]) -> list[str]:
    """Nodes their author named (``encoder/out``, not ``encoder/MatMul_1``) whose inference consumers all lie
    outside their top-level scope: where one part of the model hands over to the next. Latest first."""
    consumers = graph.consumers
    ends = []
    for node in graph:
        scope, _, rest = node.name.partition("/")
        if not rest or is_training_only(node) or frame.get(node.name, frames.ROOT) != frames.ROOT \
                or not _named_by_author(node) or not _computes_result(node, graph):
            continue
        users = [graph[c] for c in consumers.get(node.name, ()) if not is_training_only(graph[c])]
        if users and all(not u.name.startswith(scope + "/") for u in users):
            ends.append(node.name)
    return ends[::-1]


def _named_by_author(node: Node) -> bool:
    """Not the name TensorFlow makes from the op (``MatMul_1``, ``add``, ``Relu``)."""
    last = re.sub(r"_\d+$", "", node.name.rsplit("/", 1)[-1]).replace("_", "").lower()
    return last not in (node.op.lower(), re.sub(r"v\d$", "", node.op.lower())) and last not in DEFAULT_OP_NAMES


def _short(ref: TensorRef) -> str:
    return ref.node if ref.port == 0 else str(ref)


def _sinks(graph: Graph) -> Iterator[Node]:
    """Nodes nothing but training consumes: in a training graph, the loss and the predictions."""
    consumers = graph.consumers
    for node in graph:
        if not any(not is_training_only(graph[c]) for c in consumers.get(node.name, ())):
            yield node


def _computes_result(node: Node, graph: Graph) -> bool:
    if node.op in NOT_OUTPUT_OPS or updates_state(node.op) or is_training_only(node):
        return False
    if node.op == "Identity" and node.inputs:
        source = graph.get(graph.source(node.inputs[0], READS).node)
        if source is None or source.op in FUNCTIONAL_FLOW_OPS or source.op in VARIABLE_OPS:
            return False  # an unused loop counter or gradient intermediate, or a variable's read
    dtypes = output_dtypes(node, graph)
    return bool(dtypes) and any(dt.base(d) not in NOT_A_VALUE for d in dtypes)
