"""strip_training(model): remove what inference never runs, without touching control flow.

Removes CheckNumerics and Identity nodes that only forward a value (no control
edges in or out, root frame, not a cond's pivot, not a named input or output),
then keeps what the outputs still reach. Control edges to training-only nodes
are dropped by that sweep.
"""
from __future__ import annotations

from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import CONTROL_FLOW_OPS, PASS_THROUGH_OPS
from graphsurgeon.ir.signatures import tensor_nodes
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery import frames
from graphsurgeon.surgery.reach import reach
from graphsurgeon.surgery.rewire import rewired

# EnsureShape checks at run time and stays; PreventGradient stays, as exports before this one kept it.
STRIPPED_PASS_THROUGH_OPS = PASS_THROUGH_OPS - {"EnsureShape", "PreventGradient"}


def strip_training(model: Model, *, sweep_unreached: bool = True) -> Model:
    """Model -> Model without pass-through nodes and anything the outputs no longer reach.

    After a planned cut every node is already needed, so ``sweep_unreached`` False
    skips the second walk (removing a pass-through strands nothing).
    """
    graph = model.graph
    if not model.outputs:
        return model
    signature_nodes = {node for sig in model.signatures.values() for node in tensor_nodes(sig)}
    protected = {r.node for r in (*model.inputs, *model.outputs)} | set(model.init_ops) | signature_nodes
    removable = _removable_pass_throughs(graph, protected)
    mapping = {TensorRef(name): graph[name].inputs[0] for name in removable}
    graph = rewired(graph, mapping, drop=removable)
    if not sweep_unreached:
        return model.replace(graph=graph)
    init = [TensorRef(name) for name in model.init_ops]
    signature_refs = [TensorRef(name) for name in sorted(signature_nodes) if name in graph]
    keep = reach(graph, [*model.outputs, *init, *signature_refs]).kept | {r.node for r in model.inputs}
    return model.replace(graph=sweep(graph, keep))


def sweep(graph: Graph, keep: set[str] | frozenset[str]) -> Graph:
    """Only the ``keep`` nodes, with control edges to removed nodes dropped."""
    nodes = []
    for node in graph:
        if node.name not in keep:
            continue
        controls = tuple(c for c in node.control_inputs if c in keep)
        nodes.append(node if controls == node.control_inputs else node.replace(control_inputs=controls))
    return graph.with_nodes(nodes)


def _removable_pass_throughs(graph: Graph, protected: set[str]) -> set[str]:
    frame = frames.node_frames(graph) if frames.has_loops(graph) else {}
    control_sources = {c for node in graph for c in node.control_inputs}
    return {
        node.name for node in graph
        if node.op in STRIPPED_PASS_THROUGH_OPS and _is_plain_forward(graph, node, frame)
        and node.name not in protected and node.name not in control_sources
    }


def _is_plain_forward(graph: Graph, node: Node, frame: dict[str, str]) -> bool:
    if len(node.inputs) != 1 or node.control_inputs or node.device:
        return False
    if frame.get(node.name, frames.ROOT) != frames.ROOT:
        return False
    return graph[node.inputs[0].node].op not in CONTROL_FLOW_OPS
