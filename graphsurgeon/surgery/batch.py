"""The batch dimension of a cut's inputs: kept as the graph states it, or relaxed to unknown.

An input pipeline (a tf.data iterator, a queue) fixes the training batch, say
40; a Serving client sends one row. So an input cut at a pipeline's output
gets an unknown batch by default. A Placeholder whose author fixed its batch
keeps it (the author may rely on it: a reshape to [8, ...] downstream), with a
warning that clients must send exactly that batch. The policy overrides both:

  "auto"     pipeline outputs relaxed, everything else as the graph states it
  "dynamic"  every input's first dimension relaxed
  "static"   every input as the graph states it

Shapes recorded downstream of a relaxed input (``_output_shapes``) would still
carry the old batch into signature TensorInfos, so they are dropped and
shapes are inferred again when needed.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from graphsurgeon.errors import UsageError
from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.shapes import needs_inference, static_shape
from graphsurgeon.names import TensorRef

log = logging.getLogger(__name__)

POLICIES = ("auto", "dynamic", "static")
RECORDED_SHAPE_ATTRS = ("_output_shapes",)
Shape = tuple[int, ...] | None


def input_shape(name: str, shape: Shape, from_pipeline: bool, policy: str | None) -> Shape:
    """The Placeholder shape for an input whose graph shape is ``shape``, under ``policy`` (None: auto)."""
    policy = policy or "auto"
    if policy not in POLICIES:
        raise UsageError(f"unknown batch policy {policy!r}: use one of {', '.join(POLICIES)}")
    if not shape or shape[0] < 0:
        return shape
    if policy == "dynamic" or (policy == "auto" and from_pipeline):
        why = "an input pipeline's training batch" if from_pipeline else "relaxed by --dynamic-batch"
        log.info("input %s: batch dimension %d (%s) becomes unknown", name, shape[0], why)
        return (-1, *shape[1:])
    if policy == "auto":
        log.warning("input %s has a fixed batch of %d (shape %s); Serving clients must send exactly %d row(s). "
                    "Pass --dynamic-batch to accept any batch", name, shape[0], list(shape), shape[0])
    return shape


def forget_recorded_shapes(graph: Graph, relaxed: Iterable[str]) -> Graph:
    """``graph`` without recorded output shapes on the nodes that depend on the ``relaxed`` inputs."""
    downstream = graph.downstream(list(relaxed))
    if not downstream:
        return graph
    nodes = []
    for node in graph:
        if node.name in downstream and any(a in node.attrs for a in RECORDED_SHAPE_ATTRS):
            node = node.replace(attrs={k: v for k, v in node.attrs.items() if k not in RECORDED_SHAPE_ATTRS})
        nodes.append(node)
    return graph.with_nodes(nodes)


def batch_notes(before: Model, after: Model, sources: Mapping[str, TensorRef]) -> list[str]:
    """One line per input of ``after`` whose batch was relaxed from ``before`` or stays fixed; ``sources``
    maps each input Placeholder of the cut to the source tensor it stands for (a Plan's inputs)."""
    notes = []
    for ref in after.inputs:
        node = after.graph.get(ref.node)
        if node is None or "shape" not in node.attrs or node.attrs["shape"].shape.unknown_rank:
            continue
        dims = [d.size for d in node.attrs["shape"].shape.dim]
        if not dims:
            continue
        old = _recorded_batch(before, sources.get(ref.node))
        if dims[0] < 0 and old is not None and old >= 0:
            notes.append(f"input {ref.node}: batch {old} of the source is now unknown (any batch); "
                         "--static-batch keeps it")
        elif dims[0] >= 0:
            notes.append(f"input {ref.node}: batch fixed at {dims[0]}; Serving clients must send exactly "
                         f"{dims[0]} row(s) (--dynamic-batch accepts any)")
    return notes


def _recorded_batch(model: Model, ref: TensorRef | None) -> int | None:
    if ref is None or needs_inference(model, [ref]):
        return None
    shape = static_shape(model, ref)  # from the node's attrs: no TensorFlow
    return shape[0] if shape else None
