"""cut(model, inputs, outputs): keep exactly what the outputs need, starting at the inputs."""
from __future__ import annotations

import logging
from collections.abc import Sequence

from graphsurgeon import dtypes as dt
from graphsurgeon.errors import CutError
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.signatures import tensor_nodes
from graphsurgeon.ir.types import output_dtype
from graphsurgeon.names import TensorRef
from graphsurgeon.protos import pb, shape_proto
from graphsurgeon.surgery import frames
from graphsurgeon.surgery.reach import Reach, reach_with_init
from graphsurgeon.surgery.select import InputSpec, resolve_all
from graphsurgeon.surgery.shapes import static_shape

log = logging.getLogger(__name__)

PLACEHOLDER_OPS = frozenset({"Placeholder", "PlaceholderV2"})
# Sources that need a feed (or a running input pipeline) at run time.
UNFED_SOURCE_OPS = PLACEHOLDER_OPS | frozenset({
    "IteratorGetNext", "IteratorGetNextSync", "IteratorGetNextAsOptional", "QueueDequeueV2",
    "QueueDequeueManyV2", "QueueDequeueUpToV2", "QueueDequeue", "QueueDequeueMany",
    "QueueDequeueUpTo", "ReaderReadV2", "ReaderRead", "ReaderReadUpToV2",
})


def cut(model: Model, inputs: Sequence[str | TensorRef | InputSpec], outputs: Sequence[str | TensorRef]) -> Model:
    """The minimal subgraph computing ``outputs`` from ``inputs``.

    Each input tensor becomes a Placeholder (dtype and static shape from the
    graph unless the InputSpec says otherwise); with no inputs, the
    Placeholders the outputs reach are the inputs. Nothing upstream of an input
    survives; an output that still needs an unfed Placeholder, iterator or
    queue is a CutError naming it and a path to it.
    """
    model.require_graph("cut")
    graph = model.graph
    if not outputs:
        raise CutError("a cut needs at least one output: pass --outputs NODE[:PORT]")
    specs = [s if isinstance(s, InputSpec) else InputSpec(str(s)) for s in inputs]
    input_refs = resolve_all(graph, [s.name for s in specs], "input")
    output_refs = resolve_all(graph, outputs, "output")
    _refuse_loop_frames(graph, input_refs, output_refs)
    result, init_ops = reach_with_init(graph, model.init_ops, output_refs, input_refs)
    if not specs:
        # With no inputs named (a plain freeze or re-export), the graph's own Placeholders
        # stay its inputs: those the outputs reach, and those its signatures name.
        named = {node for sig in model.signatures.values() for node in tensor_nodes(sig)}
        input_refs = tuple(TensorRef(n.name) for n in graph
                           if (n.name in result.kept or n.name in named) and n.op in PLACEHOLDER_OPS)
        specs = [InputSpec(str(r)) for r in input_refs]
        result, init_ops = reach_with_init(graph, model.init_ops, output_refs, input_refs)
    _refuse_unfed(graph, result)
    for ref in input_refs:
        if ref not in result.used_inputs:
            log.warning("input %s is not used by any output; it stays as an unconnected Placeholder", ref)
    names = _placeholder_names(graph, input_refs, result)
    placeholders = {ref: _placeholder(model, ref, spec, names[ref]) for ref, spec in zip(input_refs, specs)}
    new_graph = _rebuild(graph, result, placeholders)
    new_inputs = tuple(TensorRef(p.name) for p in placeholders.values())
    new_outputs = tuple(TensorRef(names[r]) if r in names else r for r in output_refs)
    return model.replace(graph=new_graph, inputs=new_inputs, outputs=new_outputs,
                         collections=_surviving_collections(model.collections, new_graph),
                         signatures=_surviving_signatures(model.signatures, new_graph),
                         init_ops=tuple(init_ops), assets=tuple(a for a in model.assets if a.tensor.node in new_graph))


def _refuse_loop_frames(graph: Graph, inputs: Sequence[TensorRef], outputs: Sequence[TensorRef]) -> None:
    if not frames.has_loops(graph):
        return
    frame = frames.node_frames(graph)
    for kind, refs in (("input", inputs), ("output", outputs)):
        for ref in refs:
            if frame.get(ref.node, frames.ROOT) != frames.ROOT:
                raise CutError(
                    f"cannot cut at {kind} {ref}: node {ref.node!r} ({graph[ref.node].op}) runs inside while loop "
                    f"frame {frame[ref.node].lstrip('/')!r}, and a loop cannot be split; cut before its Enter "
                    "nodes or after the nodes that consume its Exit outputs"
                )


def _refuse_unfed(graph: Graph, result: Reach) -> None:
    """A kept feed-needing source is unfed: the walk stops at input tensors, so a
    source is kept only if an output needs one of its ports that is not an input."""
    for name in sorted(result.kept):
        node = graph[name]
        if node.op in UNFED_SOURCE_OPS:
            path = " <- ".join(result.path_to(name))
            raise CutError(
                f"the outputs still depend on {node.op} {name!r}, which is not among the inputs "
                f"(path: {path}); add it to --inputs, or cut at a tensor below it"
            )


def _placeholder_names(graph: Graph, inputs: Sequence[TensorRef], result: Reach) -> dict[TensorRef, str]:
    """Port-0 inputs keep their node's name, so feeds and control edges still match."""
    taken = set(result.kept)
    names = {}
    for ref in inputs:
        name = ref.node if ref.port == 0 else f"{ref.node}_{ref.port}"
        while name in taken or (name != ref.node and name in graph):
            name += "_input"
        taken.add(name)
        names[ref] = name
    return names


def _placeholder(model: Model, ref: TensorRef, spec: InputSpec, name: str) -> Node:
    graph = model.graph
    dtype = dt.base(output_dtype(graph[ref.node], ref.port, graph))
    if spec.dtype is not None:
        dtype = dt.enum_of(spec.dtype)
    shape = spec.shape if spec.shape is not None else static_shape(model, ref)
    attrs = {
        "dtype": pb.attr_value_pb2.AttrValue(type=dtype),
        "shape": pb.attr_value_pb2.AttrValue(shape=shape_proto(shape)),
    }
    return Node(name, "Placeholder", attrs=attrs)


def _rebuild(graph: Graph, result: Reach, placeholders: dict[TensorRef, Node]) -> Graph:
    """Kept nodes in source order, each placeholder where its tensor's node stood."""
    by_node: dict[str, list[Node]] = {}
    for ref, node in placeholders.items():
        by_node.setdefault(ref.node, []).append(node)
    renamed = {ref: TensorRef(node.name) for ref, node in placeholders.items()}
    kept_controls = result.kept | {p.name for p in placeholders.values()}
    nodes: list[Node] = []
    for node in graph:
        nodes.extend(by_node.get(node.name, ()))
        if node.name not in result.kept:
            continue
        inputs = tuple(renamed.get(r, r) for r in node.inputs)
        controls = tuple(c for c in node.control_inputs if c in kept_controls)
        nodes.append(node.replace(inputs=inputs, control_inputs=controls))
    return graph.with_nodes(nodes)


def _surviving_signatures(signatures, graph: Graph) -> dict:
    """Signatures whose every tensor is still there (a cut input keeps its port-0 name)."""
    return {key: sig for key, sig in signatures.items() if not key.startswith("__")
            and tensor_nodes(sig) and all(node in graph for node in tensor_nodes(sig))}


def _surviving_collections(collections, graph: Graph) -> dict:
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
