"""Static shapes of tensors, from attributes where the graph states them, else from TensorFlow.

Cuts, front ends and signatures all ask these; they live in ir/ so exporters need not import surgery.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import SHAPE_ATTR_OPS
from graphsurgeon.ir.proto import to_graph_def
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.names import TensorRef
from graphsurgeon.tf import runtime

log = logging.getLogger(__name__)


# TensorFlow before GraphDef version 22 wrote an unknown Placeholder shape as `shape {}`, and still reads
# that as "any shape" in such graphs (the Placeholder shape function in array_ops.cc).
FIRST_PRODUCER_WITH_SCALAR_PLACEHOLDERS = 22


def _dims(shape_proto: Any) -> tuple[int, ...] | None:
    if shape_proto.unknown_rank:
        return None
    return tuple(d.size for d in shape_proto.dim)


def placeholder_dims(graph: Graph, node: Node) -> tuple[int, ...] | None:
    """The dims a Placeholder-like node's ``shape`` attr states, as TensorFlow reads them in this graph.

    In an old graph a scalar ``shape`` is "any shape": TF 1.x recorded the author's shape only in
    ``_output_shapes``, which is taken when there is one.
    """
    dims = _dims(node.attrs["shape"].shape)
    producer = graph.versions.producer if graph.versions is not None else 0
    if dims == () and node.op == "Placeholder" and producer < FIRST_PRODUCER_WITH_SCALAR_PLACEHOLDERS:
        recorded = node.attrs.get("_output_shapes")
        return _dims(recorded.list.shape[0]) if recorded is not None and recorded.list.shape else None
    return dims


def needs_inference(model: Model, refs: Iterable[TensorRef], annotations: bool = False) -> bool:
    """Whether static_shape would have to ask TensorFlow for any of ``refs``."""
    for ref in refs:
        attrs = model.graph[ref.node].attrs
        known = (model.graph[ref.node].op in SHAPE_ATTR_OPS and ref.port == 0 and "shape" in attrs) or \
            "output_shapes" in attrs or (annotations and "_output_shapes" in attrs)
        if not known:
            return True
    return False


def static_shape(model: Model, ref: TensorRef, annotations: bool = False) -> tuple[int, ...] | None:
    """Dims (-1 unknown) of ``ref``, or None for unknown rank.

    ``annotations`` also trusts the ``_output_shapes`` a TF1 exporter recorded.
    They can be stale, so they may describe a signature (metadata for clients)
    but never shape a Placeholder a cut creates; they spare TensorFlow's import.
    """
    node = model.graph[ref.node]
    if node.op in SHAPE_ATTR_OPS and ref.port == 0 and "shape" in node.attrs:
        return placeholder_dims(model.graph, node)
    if "output_shapes" in node.attrs and ref.port < len(node.attrs["output_shapes"].list.shape):
        return _dims(node.attrs["output_shapes"].list.shape[ref.port])
    recorded = node.attrs.get("_output_shapes") if annotations else None
    if recorded is not None and ref.port < len(recorded.list.shape):
        return _dims(recorded.list.shape[ref.port])
    return _inferred_shape(model, ref)


def _inferred_shape(model: Model, ref: TensorRef) -> tuple[int, ...] | None:
    """Ask TensorFlow's shape inference, importing only the nodes upstream of ``ref``."""
    try:
        return inferred_shapes(model.graph, model.weights, [ref])[ref]
    except runtime.import_error() as err:
        log.warning("cannot infer the shape of %s (%s); its Placeholder gets an unknown shape", ref, err)
        return None


def inferred_shapes(graph: Graph, weights: WeightStore, refs: Sequence[TensorRef],
                    ) -> dict[TensorRef, tuple[int, ...] | None]:
    """TensorFlow's static shapes of ``refs``, importing only the nodes upstream of them (no weight read).

    Raises runtime.import_error() for a graph TensorFlow cannot build.
    """
    upstream = _data_upstream(graph, refs)
    graph_def = to_graph_def(upstream, weights, lazy_as_placeholders=True)
    shapes = runtime.static_shapes(graph_def, [str(ref) for ref in refs])
    return {ref: None if shape is None else tuple(shape) for ref, shape in zip(refs, shapes)}


def _data_upstream(graph: Graph, refs: Sequence[TensorRef]) -> Graph:
    """The nodes ``refs`` read through data edges, in source order, without their control inputs.

    Control edges never change a static shape, and following them would drag
    in training machinery (a train_op hanging off an inference node).
    """
    seen = {ref.node for ref in refs}
    stack = list(seen)
    while stack:
        for src in graph[stack.pop()].inputs:
            if src.node not in seen:
                seen.add(src.node)
                stack.append(src.node)
    return graph.with_nodes(n.replace(control_inputs=()) for n in graph.nodes_in(seen))
