"""cut(model, inputs, outputs): keep exactly what the outputs need, starting at the inputs."""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.resolve import Resolver
from graphsurgeon.ir.ops import PLACEHOLDER_OPS, UNFED_SOURCE_OPS
from graphsurgeon.ir.shapes import static_shape
from graphsurgeon.ir.signatures import tensor_nodes, user_signatures
from graphsurgeon.ir.types import output_dtype
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery import batch, pinned_batch
from graphsurgeon.surgery.cutplan import CutPlan, plan_cut
from graphsurgeon.surgery.library import prune_library
from graphsurgeon.surgery.select import InputSpec
from graphsurgeon.tf.protos import pb, shape_proto

log = logging.getLogger(__name__)


def cut(model: Model, inputs: Sequence[str | TensorRef | InputSpec], outputs: Sequence[str | TensorRef],
        planned: CutPlan | None = None, batch_policy: str | None = None) -> Model:
    """The minimal subgraph computing ``outputs`` from ``inputs``.

    Each input tensor becomes a Placeholder (dtype and static shape from the
    graph unless the InputSpec says otherwise; its batch dimension as
    ``batch_policy`` decides, see surgery/batch.py); with no inputs, the
    Placeholders the outputs reach are the inputs. Nothing upstream of an input
    survives; an output that still needs an unfed Placeholder, iterator or
    queue is a CutError naming it and a path to it. ``planned`` is the
    plan_cut() of the same names (graphsurgeon.plan passes its own), so
    nothing is resolved or walked twice.
    """
    if planned is None:
        names = Resolver(model)
        specs = tuple(s if isinstance(s, InputSpec) else InputSpec(str(s)) for s in inputs)
        planned = plan_cut(model, specs, [names.tensor(s.name, "input") for s in specs], names.all(outputs, "output"))
    planned.check()
    return apply_cut(model, planned, planned.kept, batch_policy)


def apply_cut(model: Model, planned: CutPlan, kept: frozenset[str],
              batch_policy: str | None = None) -> Model:
    """The cut ``planned`` describes, keeping ``kept`` (the plan's nodes, as renamed by a freeze)."""
    graph = model.graph
    names = {i.ref: i.placeholder for i in planned.inputs}
    placeholders, relaxed, shapes = {}, [], []
    for i in planned.inputs:
        placeholders[i.ref], was_relaxed, graph_shape = _placeholder(model, i.ref, i.spec, i.placeholder,
                                                                     batch_policy)
        relaxed += [i.placeholder] if was_relaxed else []
        shapes.append((i.placeholder, graph_shape, _dims(placeholders[i.ref])))
    # Shapes recorded below a relaxed input still carry the old batch (into signature TensorInfos).
    new_graph = batch.forget_recorded_shapes(_rebuild(graph, kept, placeholders), relaxed)
    # So do kept constants (a Reshape to [B, ...]): rewritten to take any batch, or refused.
    new_graph = pinned_batch.unpin(new_graph, model.weights, pinned_batch.relaxed_old_shapes(shapes))
    new_graph = prune_library(new_graph)  # the bodies of removed conds and loops (e.g. dead summaries) go too
    new_inputs = tuple(TensorRef(p.name) for p in placeholders.values())
    new_outputs = tuple(TensorRef(names[r]) if r in names else r for r in planned.outputs)
    return model.replace(graph=new_graph, inputs=new_inputs, outputs=new_outputs,
                         collections=_surviving_collections(model.collections, new_graph),
                         signatures=_surviving_signatures(model.signatures, new_graph),
                         init_ops=tuple(n for n in planned.init_ops if n in new_graph),
                         assets=tuple(a for a in model.assets if a.tensor.node in new_graph))


def _placeholder(model: Model, ref: TensorRef, spec: InputSpec, name: str,
                 batch_policy: str | None) -> tuple[Node, bool, tuple[int, ...] | None]:
    """The Placeholder standing for ``ref``, whether its shape may be looser than the graph's, and the
    graph's shape (None when unknown, or not needed: a user's shape that keeps the batch)."""
    graph = model.graph
    dtype = dt.base(output_dtype(graph[ref.node], ref.port, graph))
    if spec.dtype is not None:
        dtype = dt.enum_of(spec.dtype)
    relaxes_batch = spec.shape is not None and len(spec.shape) > 0 and spec.shape[0] < 0
    graph_shape = static_shape(model, ref) if spec.shape is None or relaxes_batch else None
    shape = spec.shape if spec.shape is not None else batch.input_shape(
        str(ref), graph_shape, graph[ref.node].op in UNFED_SOURCE_OPS - PLACEHOLDER_OPS, batch_policy)
    attrs = {
        "dtype": pb.attr_value_pb2.AttrValue(type=dtype),
        "shape": pb.attr_value_pb2.AttrValue(shape=shape_proto(shape)),
    }
    # A user's explicit shape may loosen the graph's too: downstream recorded shapes go either way.
    return Node(name, "Placeholder", attrs=attrs), spec.shape is not None or shape != graph_shape, graph_shape


def _dims(placeholder: Node) -> tuple[int, ...] | None:
    shape = placeholder.attrs["shape"].shape
    return None if shape.unknown_rank else tuple(d.size for d in shape.dim)


def _rebuild(graph: Graph, kept: frozenset[str], placeholders: dict[TensorRef, Node]) -> Graph:
    """Kept nodes in source order, each placeholder where its tensor's node stood."""
    by_node: dict[str, list[Node]] = {}
    for ref, node in placeholders.items():
        by_node.setdefault(ref.node, []).append(node)
    renamed = {ref: TensorRef(node.name) for ref, node in placeholders.items()}
    kept_controls = kept | {p.name for p in placeholders.values()}
    nodes: list[Node] = []
    for name in graph.names:  # by name: a graph over a GraphDef builds only the kept nodes
        nodes.extend(by_node.get(name, ()))
        if name not in kept:
            continue
        node = graph[name]
        inputs, controls = node.inputs, node.control_inputs
        if not renamed.keys().isdisjoint(inputs):
            inputs = tuple(renamed.get(r, r) for r in inputs)
        if controls:
            controls = tuple(c for c in controls if c in kept_controls)
        unchanged = inputs is node.inputs and controls == node.control_inputs
        nodes.append(node if unchanged else node.replace(inputs=inputs, control_inputs=controls))
    return graph.with_nodes(nodes)


def _surviving_signatures(signatures: Mapping[str, Any], graph: Graph) -> dict:
    """Signatures whose every tensor is still there (a cut input keeps its port-0 name)."""
    return {key: sig for key, sig in user_signatures(signatures).items()
            if tensor_nodes(sig) and all(node in graph for node in tensor_nodes(sig))}


def _surviving_collections(collections: Mapping[str, Any], graph: Graph) -> dict:
    """node_list collections filtered to surviving nodes; others no longer describe the graph."""
    out = {}
    for key, collection in collections.items():
        if collection.WhichOneof("kind") != "node_list":
            continue
        values = [v for v in collection.node_list.value if TensorRef.parse(v.lstrip("^")).node in graph]
        if values:
            new = type(collection)()
            new.node_list.value.extend(values)
            out[key] = new
    return out
