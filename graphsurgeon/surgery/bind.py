"""bind(model, {name: value}): replace tensors with constants, then fold the conds they decide.

Binding ``is_training=false`` makes every Switch on it constant; folding those
removes the untaken branches (batch-norm batch statistics, dropout), which
TensorFlow's Graph Transform Tool never did (tensorflow/tensorflow#23992).
"""
from __future__ import annotations

from collections.abc import Mapping

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.resolve import Resolver
from graphsurgeon.ir.ops import SHAPE_ATTR_OPS
from graphsurgeon.ir.types import output_dtype
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery.fold import fold_constant_switches
from graphsurgeon.surgery.rewire import rewired
from graphsurgeon.surgery.select import as_array


def bind(model: Model, values: Mapping[str, object] | Mapping[TensorRef, object]) -> Model:
    """Each tensor becomes a constant; a bound Placeholder keeps its name.

    Keys are TensorRefs a Plan resolved (graphsurgeon.plan passes those), or
    names, which a script's call resolves here.
    """
    model.require_graph("bind tensors in")
    graph = model.graph
    names = Resolver(model)
    for name, value in values.items():
        ref = name if isinstance(name, TensorRef) else names.tensor(name, "--set name")
        node = graph[ref.node]
        dtype = dt.base(output_dtype(node, ref.port, graph))
        array = as_array(value, dtype, str(name))
        if node.op in SHAPE_ATTR_OPS and ref.port == 0:
            graph = graph.with_nodes(const_node(n.name, array, dtype) if n is node else n for n in graph)
        else:
            graph = _bind_tensor(graph, ref, const_node(_free_name(graph, f"{ref.node}/bound_{ref.port}"), array, dtype))
    return model.replace(graph=fold_constant_switches(graph))


def _bind_tensor(graph: Graph, ref: TensorRef, const: Node) -> Graph:
    nodes = list(graph) + [const]
    return rewired(graph.with_nodes(nodes), {ref: TensorRef(const.name)})


def _free_name(graph: Graph, name: str) -> str:
    candidate, i = name, 1
    while candidate in graph:
        candidate, i = f"{name}_{i}", i + 1
    return candidate
