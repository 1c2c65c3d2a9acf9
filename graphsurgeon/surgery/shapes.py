"""Static shapes of tensors, from attributes where the graph states them, else from TensorFlow."""
from __future__ import annotations

import logging

from graphsurgeon import _tf
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.proto import to_graph_def
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery.reach import reach

log = logging.getLogger(__name__)

SHAPE_ATTR_OPS = frozenset({"Placeholder", "PlaceholderV2", "PlaceholderWithDefault"})


def _dims(shape_proto) -> tuple[int, ...] | None:
    if shape_proto.unknown_rank:
        return None
    return tuple(d.size for d in shape_proto.dim)


def static_shape(model: Model, ref: TensorRef) -> tuple[int, ...] | None:
    """Dims (-1 unknown) of ``ref``, or None for unknown rank."""
    node = model.graph[ref.node]
    if node.op in SHAPE_ATTR_OPS and ref.port == 0 and "shape" in node.attrs:
        return _dims(node.attrs["shape"].shape)
    if "output_shapes" in node.attrs and ref.port < len(node.attrs["output_shapes"].list.shape):
        return _dims(node.attrs["output_shapes"].list.shape[ref.port])
    return _inferred_shape(model, ref)


def _inferred_shape(model: Model, ref: TensorRef) -> tuple[int, ...] | None:
    """Ask TensorFlow's shape inference, importing only the nodes upstream of ``ref``."""
    kept = reach(model.graph, [ref]).kept
    upstream = model.graph.with_nodes(n for n in model.graph if n.name in kept)
    graph_def = to_graph_def(upstream, model.weights, lazy_as_placeholders=True)
    try:
        (shape,) = _tf.static_shapes(graph_def, [str(ref)])
    except _tf.import_error() as err:
        log.warning("cannot infer the shape of %s (%s); its Placeholder gets an unknown shape", ref, err)
        return None
    return None if shape is None else tuple(shape)
