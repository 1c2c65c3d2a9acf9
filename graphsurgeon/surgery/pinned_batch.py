"""Constants that still hold a relaxed input's old batch: found by shape inference, rewritten or refused.

An input relaxed from batch B to any batch (--dynamic-batch, an iterator's
training batch, --inputs x=float32[?,...]) is relaxed in name only while a kept
constant still says B. A Reshape to [300, 400] fails for every other batch
("Input to reshape is a tensor with 800 values, but the requested shape has
120000"); a Reshape to [1, -1, 2048] runs a batch of two as one row, silently.

TensorFlow's shape inference, run over the kept graph twice (the relaxed
inputs at their old batch, then relaxed), says which tensors carry the batch
in their first dimension: B in the first run, unknown in the second.

- A Reshape of such a tensor to a constant starting with B gets -1 there (or,
  when the constant has a -1 already, the batch read from the tensor's shape
  at run time). A Slice of such a tensor taking all B rows from row 0 takes
  size -1. These are the rewrites.
- Any other constant that pins B is refused in one line naming the node and
  the value: a Reshape of such a tensor to a fully constant shape, a
  BroadcastTo of one to a shape starting with B, and a Fill, Tile,
  BroadcastTo or random op that makes B rows a consumer joins with such a
  tensor (for B = 1, only where rows are concatenated: elsewhere one row
  broadcasts).

Not found: a pinned shape that meets the batch only inside a while loop, where
TensorFlow's import-time inference knows no shapes.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from graphsurgeon.errors import CutError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.ops import CONCAT_OPS, PASS_THROUGH_OPS, SHAPE_OPERANDS
from graphsurgeon.ir.shapes import inferred_shapes
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.ir.types import output_dtype
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.names import TensorRef
from graphsurgeon.tf import runtime
from graphsurgeon.tf.protos import pb, shape_proto

log = logging.getLogger(__name__)

Shape = tuple[int, ...] | None
Shapes = Mapping[TensorRef, Shape]


def unpin(graph: Graph, weights: WeightStore, old_shapes: Mapping[str, Shape]) -> Graph:
    """``graph`` with the constants pinning the old batch of the relaxed Placeholders rewritten.

    ``old_shapes``: each relaxed Placeholder's name -> the shape it had before.
    CutError for a pinning constant that cannot be rewritten. Imports
    TensorFlow only when some kept constant holds an old batch.
    """
    batches = {name: shape[0] for name, shape in old_shapes.items() if shape and shape[0] > 0}
    candidates = _candidates(graph, batches)
    if not candidates:
        return graph
    refs = _refs_to_infer(graph, candidates)
    try:
        before = inferred_shapes(_at_old_batch(graph, old_shapes), weights, refs)
        done: set[str] = set()
        while True:  # a rewrite lets the batch through to the next pinned node: look again
            after = inferred_shapes(graph, weights, refs)
            rewritten = _rewrites(graph, candidates - done, before, after, batches)
            if not rewritten:
                return graph
            done |= rewritten.keys()
            graph = graph.edited(rewritten)
    except runtime.import_error() as err:
        log.warning("cannot look for constants that pin the old batch (TensorFlow cannot infer shapes: %s); "
                    "check that every batch size runs", err)
        return graph


def _candidates(graph: Graph, batches: Mapping[str, int]) -> set[str]:
    """Nodes with a constant shape operand, below a relaxed input, that could pin one of ``batches``
    (or, for a Reshape, any fully constant shape)."""
    if not batches:
        return set()
    below = graph.downstream(batches)
    found = set()
    for node in graph.of_ops(SHAPE_OPERANDS):
        shape_slot, data_slot = SHAPE_OPERANDS[node.op]
        value = _constant(graph, node.inputs[shape_slot]) if len(node.inputs) > shape_slot else None
        if value is None or value.ndim != 1 or not value.size:
            continue
        holds_a_batch = value[0] in batches.values()
        if data_slot is not None and node.inputs[data_slot].node in below:
            if holds_a_batch or (node.op == "Reshape" and -1 not in value):
                found.add(node.name)
        elif holds_a_batch and any(c in below for c in _joining_consumers(graph, node.name)):
            found.add(node.name)
    return found


def _refs_to_infer(graph: Graph, candidates: set[str]) -> list[TensorRef]:
    refs: dict[TensorRef, None] = {}
    for name in sorted(candidates):
        node = graph[name]
        refs[TensorRef(name)] = None
        _, data_slot = SHAPE_OPERANDS[node.op]
        if data_slot is not None:
            refs[node.inputs[data_slot]] = None
        for consumer in _joining_consumers(graph, name):
            refs.update(dict.fromkeys(graph[consumer].inputs))
    return list(refs)


def _rewrites(graph: Graph, candidates: set[str], before: Shapes, after: Shapes,
              batches: Mapping[str, int]) -> dict[str, list[Node]]:
    """{node: the nodes replacing it} for the candidates that pin a batch now; CutError for one that cannot be."""
    rewritten = {}
    for node in graph.nodes_in(candidates):
        shape_slot, data_slot = SHAPE_OPERANDS[node.op]
        value = _constant(graph, node.inputs[shape_slot])
        data = node.inputs[data_slot] if data_slot is not None else None
        batch = _batch_carried(data, before, after, batches) if data is not None else None
        if value is None:
            continue
        if data is not None and batch is not None:
            replacement = _rewritten(graph, node, data, value, batch)
            if replacement is not None:
                rewritten[node.name] = replacement
            elif _pins(node.op, value, batch):
                raise _refusal(node, value, batch, batches)
        elif data is None or node.op in ("Tile", "BroadcastTo"):
            pinned = _joins_the_batch(graph, node, before, after, batches)
            if pinned is not None:
                raise _refusal(node, value, pinned, batches)
    return rewritten


def _batch_carried(ref: TensorRef, before: Shapes, after: Shapes, batches: Mapping[str, int]) -> int | None:
    """The old batch ``ref`` carries in its first dimension (B before relaxing, unknown after), else None."""
    old, new = before.get(ref), after.get(ref)
    if not old or not new or old[0] not in batches.values() or new[0] != -1:
        return None
    return old[0]


def _rewritten(graph: Graph, node: Node, data: TensorRef, value: np.ndarray, batch: int) -> list[Node] | None:
    """The simple cases: a Reshape to [B, ...] and a Slice of rows 0..B, made to take any batch."""
    shape_slot, _ = SHAPE_OPERANDS[node.op]
    operand = graph[node.inputs[shape_slot].node]
    dtype = operand.attrs["dtype"].type
    if node.op == "Slice" and value[0] == batch and _constant_first(graph, node.inputs[1]) == 0:
        size = const_node(graph.free_name(f"{node.name}/any_batch_size"), np.concatenate([[-1], value[1:]]), dtype,
                          operand.control_inputs)
        return [size, _with_input(node, shape_slot, TensorRef(size.name))]
    if node.op != "Reshape" or value[0] != batch:
        return None
    if -1 not in value[1:]:
        target = const_node(graph.free_name(f"{node.name}/any_batch_shape"), np.concatenate([[-1], value[1:]]),
                            dtype, operand.control_inputs)
        return [target, _with_input(node, shape_slot, TensorRef(target.name))]
    parts = list(_batch_from_shape(graph, node, data, value[1:], dtype, operand.control_inputs))
    return [*parts, _with_input(node, shape_slot, TensorRef(parts[-1].name))]


def _batch_from_shape(graph: Graph, node: Node, data: TensorRef, rest: np.ndarray, dtype: int,
                      controls: tuple[str, ...]) -> Iterator[Node]:
    """concat(shape(data)[0:1], rest): a Reshape target whose batch is the data's at run time."""
    scope = graph.free_name(f"{node.name}/any_batch")
    data_dtype = dt.base(output_dtype(graph[data.node], data.port, graph))
    yield Node(f"{scope}/shape", "Shape", (data,), attrs={"T": _type(data_dtype), "out_type": _type(dtype)})
    yield const_node(f"{scope}/begin", np.array([0]), dtype, controls)
    yield const_node(f"{scope}/size", np.array([1]), dtype, controls)
    yield Node(f"{scope}/batch", "Slice", tuple(TensorRef(f"{scope}/{n}") for n in ("shape", "begin", "size")),
               attrs={"T": _type(dtype), "Index": _type(dtype)})
    yield const_node(f"{scope}/rest", rest, dtype, controls)
    yield const_node(f"{scope}/axis", np.int32(0), dt.enum_of("int32"), controls)
    yield Node(f"{scope}/target", "ConcatV2", tuple(TensorRef(f"{scope}/{n}") for n in ("batch", "rest", "axis")),
               attrs={"N": pb.attr_value_pb2.AttrValue(i=2), "T": _type(dtype), "Tidx": _type(dt.enum_of("int32"))})


def _pins(op: str, value: np.ndarray, batch: int) -> bool:
    """Whether a constant shape that no rewrite fixed holds the batch of a tensor carrying it."""
    if op == "Reshape":
        return -1 not in value  # a fully constant target cannot follow the batch
    return op in ("BroadcastTo", "Slice") and value[0] == batch


def _joins_the_batch(graph: Graph, node: Node, before: Shapes, after: Shapes,
                     batches: Mapping[str, int]) -> int | None:
    """The batch B when ``node`` makes B rows that a consumer joins with a tensor carrying the batch."""
    own = before.get(TensorRef(node.name))
    if not own or own[0] not in batches.values():
        return None
    for name in _joining_consumers(graph, node.name):
        consumer = graph[name]
        if own[0] == 1 and consumer.op not in CONCAT_OPS:
            continue  # one row broadcasts against any batch
        if any(_batch_carried(ref, before, after, batches) == own[0] for ref in consumer.inputs):
            return own[0]
    return None


def _joining_consumers(graph: Graph, name: str) -> list[str]:
    """The nodes reading ``name``'s output, looking through pass-through ops (Identity, StopGradient, ...)."""
    found: list[str] = []
    stack, seen = [name], {name}
    while stack:
        for consumer, _ in graph.data_consumers.get(TensorRef(stack.pop()), ()):
            if consumer in seen:
                continue
            seen.add(consumer)
            (stack if graph.op_of(consumer) in PASS_THROUGH_OPS else found).append(consumer)
    return found


def _refusal(node: Node, value: np.ndarray, batch: int, batches: Mapping[str, int]) -> CutError:
    inputs = ", ".join(sorted(name for name, b in batches.items() if b == batch))
    return CutError(
        f"{node.op} {node.name!r} takes the constant {value.tolist()}, made for the batch of {batch} that input "
        f"{inputs} had, so no other batch can run through it; keep that batch (--static-batch, and no '?' batch "
        "in --inputs)", node.name)


def _constant(graph: Graph, ref: TensorRef) -> np.ndarray | None:
    """The value of a small inline integer Const behind ``ref`` (through Identity), else None."""
    node = graph[graph.source(ref).node]
    if node.op != "Const" or node.weight is not None:
        return None
    value = to_array(node.attrs["value"].tensor)
    return value if value.dtype.kind == "i" else None


def _constant_first(graph: Graph, ref: TensorRef) -> int | None:
    value = _constant(graph, ref)
    return int(value.reshape(-1)[0]) if value is not None and value.size else None


def _at_old_batch(graph: Graph, old_shapes: Mapping[str, Shape]) -> Graph:
    """``graph`` with each relaxed Placeholder back at the shape it had."""
    changes = {}
    for name, shape in old_shapes.items():
        node = graph[name]
        attrs = {**node.attrs, "shape": pb.attr_value_pb2.AttrValue(shape=shape_proto(shape))}
        changes[name] = [node.replace(attrs=attrs)]
    return graph.edited(changes)


def _with_input(node: Node, slot: int, ref: TensorRef) -> Node:
    return node.replace(inputs=tuple(ref if i == slot else r for i, r in enumerate(node.inputs)))


def _type(dtype: int) -> object:
    return pb.attr_value_pb2.AttrValue(type=dtype)


def relaxed_old_shapes(inputs: Sequence[tuple[str, Shape, Shape]]) -> dict[str, Shape]:
    """{placeholder: old shape} for each (placeholder, old shape, new shape) whose batch was relaxed."""
    return {name: old for name, old, new in inputs
            if old and new and old[0] > 0 and new[0] < 0}
