"""What a model holds, and what a cut kept and removed, as plain data for renderers."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from graphsurgeon.audit.candidates import FunctionCopy, candidate_inputs, candidate_outputs
from graphsurgeon.audit.signatures import SignatureDesc, signatures_of
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import SHAPE_ATTR_OPS, VARIABLE_OPS
from graphsurgeon.ir.custom_ops import provider
from graphsurgeon.ir.sizes import variable_bytes, weight_bytes
from graphsurgeon.ir.types import const_value_nbytes, output_dtype, unregistered_ops_of
from graphsurgeon.ir.weights import numeric_nbytes
from graphsurgeon.plan import Plan
from graphsurgeon.surgery.batch import batch_notes
from graphsurgeon.surgery.training import removal_groups


@dataclass(frozen=True)
class TensorDesc:
    name: str
    op: str
    dtype: str
    shape: list[int] | None  # None: unknown rank


@dataclass(frozen=True)
class VariableDesc:
    name: str
    dtype: str
    shape: list[int]
    nbytes: int


@dataclass(frozen=True)
class UnregisteredOp:
    op: str
    where: str  # the first node that uses it (in a library function, that function's name too)
    package: str | None  # the package that registers it, where ir.custom_ops knows it


@dataclass(frozen=True)
class LayerDesc:
    """A Keras layer as --inputs and --outputs name it; ``depth`` is how many models enclose it."""

    name: str
    class_name: str
    calls: int
    depth: int
    parent: str | None = None


@dataclass(frozen=True)
class ModelSummary:
    path: str
    format: str
    nodes: int
    weight_bytes: int
    ops: list[tuple[str, int]]
    inputs: list[TensorDesc]
    outputs: list[str]
    variables: list[VariableDesc] = field(default_factory=list)
    side_outputs: list[str] = field(default_factory=list)  # losses, metrics, summary images: listed last
    signatures: list[SignatureDesc] = field(default_factory=list)  # serving_default first
    details: dict[str, str] = field(default_factory=dict)  # format facts such as keras_version
    function_copies: list[FunctionCopy] = field(default_factory=list)  # feeds of inlined functions, by scope
    unregistered_ops: list[UnregisteredOp] = field(default_factory=list)  # in the graph and every function
    layers: list[LayerDesc] = field(default_factory=list)  # a Keras model's layers, each before its own layers


def summarize(model: Model) -> ModelSummary:
    graph = model.graph
    feeds, copies = candidate_inputs(model)
    outputs, side_outputs = candidate_outputs(model)
    details = dict(model.source.details)
    return ModelSummary(
        path=model.source.path,
        format=model.source.format,
        nodes=len(graph),
        weight_bytes=weight_bytes(model),
        ops=sorted(Counter(n.op for n in graph).items(), key=lambda kv: (-kv[1], kv[0])),
        inputs=[_feed(node, port, graph) for node, port in feeds],
        outputs=outputs,
        variables=_variables(model),
        side_outputs=side_outputs,
        signatures=signatures_of(model),
        details=details,
        function_copies=copies,
        unregistered_ops=_unregistered_ops(model),
        layers=keras_layers(model),
    )


def _unregistered_ops(model: Model) -> list[UnregisteredOp]:
    """Every op of the graph and of its whole function library that TensorFlow does not register (a Keras
    file read without Keras has layers, not ops)."""
    if not model.source.traced:
        return []
    library = model.graph.library
    every_function = [f.signature.name for f in getattr(library, "function", ())]
    return [UnregisteredOp(op, where, provider(op))
            for op, where in unregistered_ops_of(model.graph, library, every_function).items()]


def keras_layers(model: Model) -> list[LayerDesc]:
    """The model's Keras layers in nesting order: each layer, then the layers of the model it is (depth first)."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for layer in model.layers.values():
        children[layer.parent if layer.parent in model.layers else None].append(layer.name)
    found: list[LayerDesc] = []
    pending = [(name, 0) for name in reversed(children[None])]
    while pending:
        name, depth = pending.pop()
        layer = model.layers[name]
        found.append(LayerDesc(name, layer.class_name, len(layer.calls), depth, layer.parent))
        pending.extend((child, depth + 1) for child in reversed(children[name]))
    return found


def _feed(node: Node, port: int, graph: Graph) -> TensorDesc:
    name = node.name if port == 0 else f"{node.name}:{port}"
    return TensorDesc(name, node.op, dt.name_of(dt.base(output_dtype(node, port, graph))), _attr_shape(node, port))


def _attr_shape(node: Node, port: int) -> list[int] | None:
    proto = None
    if node.op in SHAPE_ATTR_OPS and "shape" in node.attrs:
        proto = node.attrs["shape"].shape
    elif "output_shapes" in node.attrs and port < len(node.attrs["output_shapes"].list.shape):
        proto = node.attrs["output_shapes"].list.shape[port]
    if proto is None or proto.unknown_rank:
        return None
    return [d.size for d in proto.dim]


def _variables(model: Model) -> list[VariableDesc]:
    out = []
    for node in model.graph:
        if node.op not in VARIABLE_OPS:
            continue
        info = model.weights.get(model.checkpoint_key(node.name))
        if info is not None:
            out.append(VariableDesc(node.name, info.dtype_name, list(info.shape), info.nbytes))
        else:
            # Not in the checkpoint (a TF2 function's captured copy, a weightless .meta): its declared size.
            dtype, shape = dt.base(node.attrs["dtype"].type), _declared_shape(node)
            nbytes = numeric_nbytes(dtype, tuple(shape)) if all(d >= 0 for d in shape) else 0
            out.append(VariableDesc(node.name, dt.name_of(dtype), shape, nbytes))
    return out


def _declared_shape(node: Node) -> list[int]:
    return [d.size for d in node.attrs["shape"].shape.dim] if "shape" in node.attrs else []


@dataclass(frozen=True)
class RemovedGroup:
    group: str
    nodes: int
    nbytes: int


@dataclass(frozen=True)
class CutReport:
    inputs: list[TensorDesc]
    outputs: list[str]
    kept_nodes: int
    kept_bytes: int
    removed_nodes: int
    removed_bytes: int
    removed: list[RemovedGroup]
    notes: list[str] = field(default_factory=list)  # e.g. an input's batch dimension relaxed or fixed


def compare(before: Model, after: Model, planned: Plan | None = None) -> CutReport:
    """What ``after`` kept of ``before``, and what it removed grouped by why or where (``planned``: the
    Plan that made ``after``, whose inputs say which source tensor each Placeholder stands for)."""
    kept = set(after.graph.names)
    # A variable frozen into a differently named constant (a VarHandleOp read by
    # ReadVariableOp) moved its bytes rather than losing them.
    kept_keys = {n.weight for n in after.graph if n.weight is not None}
    # by name and op: a graph over a GraphDef builds only the Consts and variables, for their bytes
    graph = before.graph
    gone = [(name, op) for name, op in graph.name_ops() if name not in kept]
    labels = removal_groups(gone)
    nbytes: dict[str, int] = defaultdict(int)
    attrs_of, weight_of, weights = graph.attrs_of, graph.weight_of, before.weights
    for (name, op), label in zip(gone, labels):
        if op == "Const":
            if before.checkpoint_key(name) not in kept_keys:
                nbytes[label] += const_value_nbytes(attrs_of(name), weight_of(name), weights)
        elif op in VARIABLE_OPS and before.checkpoint_key(name) not in kept_keys:
            nbytes[label] += variable_bytes(before, name)
    removed = sorted((RemovedGroup(g, n, nbytes[g]) for g, n in Counter(labels).items()),
                     key=lambda r: (-r.nbytes, -r.nodes, r.group))
    after_summary_inputs = [
        TensorDesc(r.node, "Placeholder", dt.name_of(after.graph[r.node].attrs["dtype"].type),
                   _attr_shape(after.graph[r.node], 0))
        for r in after.inputs
    ]
    return CutReport(
        inputs=after_summary_inputs,
        outputs=[str(r) for r in after.outputs],
        kept_nodes=len(after.graph),
        kept_bytes=weight_bytes(after),
        removed_nodes=sum(g.nodes for g in removed),
        removed_bytes=sum(g.nbytes for g in removed),
        removed=removed,
        notes=batch_notes(before, after, {i.placeholder: i.ref for i in planned.inputs} if planned else {}),
    )
