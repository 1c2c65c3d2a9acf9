"""The source's own outputs, from a cut of the source graph that TensorFlow's C++ runtime runs.

The reference is the plan of the recorded recipe applied to the source as a
cut and nothing more: the kept nodes, a Placeholder at each input, the kept
variables still variables. Nothing is frozen by graphsurgeon: each kept
variable is restored by TensorFlow's own restore op from the source's
checkpoint (the entry and slice the source's Saver reads), which checks each
tensor's checksum as it reads it. Ops outside the cut (a custom op the
runtime does not have) are never imported, and the checkpoint's other tensors
(optimizer slots, the head a cut drops) are never read.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from graphsurgeon.exporters.weight_checks import checked_weights
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.init_stages import stage_of
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import INIT_ASSIGN_OPS
from graphsurgeon.ir.proto import node_defs
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.loaders.init_ops import expand_groups
from graphsurgeon.loaders.restore_on_init import init_checkpoints
from graphsurgeon.names import TensorRef
from graphsurgeon.plan import Plan
from graphsurgeon.surgery.cut import apply_cut
from graphsurgeon.tf.protos import pb
from graphsurgeon.tf.runtime import seed_from_name
from graphsurgeon.verify.cpp_loader import Run
from graphsurgeon.verify.without_checkpoint import initialization

SCOPE = "graphsurgeon_verify"
GRAPH_DEF_NODE_FIELD = 1  # GraphDef.node
GRAPH_DEF_LIBRARY_FIELD = 2
GRAPH_DEF_VERSIONS_FIELD = 4


@dataclass(frozen=True)
class ReferenceGraph:
    """A GraphDef file of the source's cut, what to run once before feeding it, and its tensors by source tensor."""

    path: Path
    setup: tuple[Run, ...]
    tensors: Mapping[TensorRef, str]  # source tensor (an input or output of the plan) -> tensor in the file
    variables: tuple[str, ...]  # the kept variables, restored from the checkpoint by TensorFlow


def reference_graph(planned: Plan, path: Path, asset_dir: str | None, weights: str | None) -> ReferenceGraph:
    """Write the cut ``planned`` describes, unfrozen, to ``path``; restore and init ops run in setup."""
    source = planned.model
    init_assigned = {source.graph[op].inputs[0].node for op in planned.init_ops
                     if source.graph.op_of(op) in INIT_ASSIGN_OPS}
    restores, first, feeds = _variable_setup(source, [v for v in planned.variables if v not in init_assigned],
                                             weights)
    kept = frozenset(planned.kept) | _ancestors(source.graph, first)
    # The stored dtypes and shapes are what the graph declares (a lossless widening is cast), as for the export.
    cut = checked_weights(apply_cut(source, planned.cut, kept, planned.recipe.batch))
    graph = cut.graph.with_nodes([*cut.graph, *restores])
    _write(graph, cut, path)
    tensors = {i.ref: f"{i.placeholder}:0" for i in planned.inputs}
    tensors.update({ref: str(new) for ref, new in zip(planned.outputs, cut.outputs)})
    setup = [Run({}, [], [n.name for n in restores if n.op in INIT_ASSIGN_OPS])] if restores else []
    setup += [Run(_strings_fed(feeds, graph), [], [op]) for op in first]
    asset_feeds = _strings_fed({str(a.tensor): str(a.locate(asset_dir)) for a in source.assets
                                if a.tensor.node in graph}, graph)  # an asset the cut does not read may be gone
    assets = {a.tensor.node for a in source.assets}
    for op in sorted((op for op in planned.init_ops if op in graph), key=lambda o: stage_of(source.graph, o, assets)):
        setup.append(Run(asset_feeds, [], [op]))
    return ReferenceGraph(path, tuple(setup), tensors, planned.variables)


def _strings_fed(paths: Mapping[str, str], graph: Graph) -> dict[str, np.ndarray]:
    """Path feeds (assets, checkpoints restored at init) as string scalars, for the tensors the graph has."""
    return {name: np.array(path.encode()) for name, path in paths.items() if TensorRef.parse(name).node in graph}


def _variable_setup(source: Model, variables: list[str], weights: str | None
                    ) -> tuple[list[Node], list[str], dict[str, str]]:
    """(new nodes restoring the variables the checkpoint holds, assign ops for the others, their feeds)."""
    on_init = init_checkpoints(source)
    restored = _saver_restores(source, [v for v in variables if v not in on_init])
    nodes: list[Node] = []
    if restored:
        checkpoint = cast(str, source.source.checkpoint)  # _saver_restores restores nothing without one
        prefix = const_node(f"{SCOPE}/checkpoint", checkpoint, dt.enum_of("string"))
        nodes.append(prefix)
        for i, (variable, (assign, restore, port)) in enumerate(sorted(restored.items())):
            nodes += _restore_nodes(source, f"{SCOPE}/restore_{i}", prefix.name, assign, restore, port)
    first: list[str] = []
    feeds: dict[str, str] = {}
    for variable in variables:
        if variable not in restored:
            op, more = initialization(source, variable, on_init.get(variable), weights)
            first.append(op)
            feeds.update(more)
    return nodes, first, feeds


def _saver_restores(source: Model, variables: list[str]) -> dict[str, tuple[Node, Node, int]]:
    """variable -> (the Saver's assign, the restore op, its output) for each variable the checkpoint holds."""
    if source.saver_def is None or source.source.checkpoint is None:
        return {}
    graph = source.graph
    restore_op = source.saver_def.restore_op_name.split(":")[0]
    wanted = set(variables)
    found = {}
    for name in expand_groups(graph, [restore_op]) if restore_op in graph else ():
        if graph.op_of(name) not in INIT_ASSIGN_OPS:
            continue
        assign = graph[name]
        if assign.inputs[0].node not in wanted or len(assign.inputs) < 2:
            continue
        restored = graph.source(assign.inputs[1])
        if graph.op_of(restored.node).startswith("Restore"):
            key = _entry(graph, graph[restored.node], restored.port)[0]
            if key in source.weights:
                found[assign.inputs[0].node] = (assign, graph[restored.node], restored.port)
    return found


def _entry(graph: Graph, restore: Node, port: int) -> tuple[str, str]:
    """(checkpoint key, slice spec) that output ``port`` of a restore op reads."""
    names = _strings(graph, restore.inputs[1])
    if restore.op == "RestoreV2":
        return names[port], _strings(graph, restore.inputs[2])[port]
    slices = _strings(graph, restore.inputs[2]) if restore.op == "RestoreSlice" else [""]
    return names[0], slices[0]


def _strings(graph: Graph, ref: TensorRef) -> list[str]:
    value = to_array(graph[graph.source(ref).node].attrs["value"].tensor)
    return [s.decode("utf-8", "replace") for s in value.ravel().tolist()]


def _restore_nodes(source: Model, name: str, prefix: str, assign: Node, restore: Node, port: int) -> list[Node]:
    """A RestoreV2 of just this variable's entry (stored dtype, cast if the graph declares a wider one), and its assign."""
    graph = source.graph
    key, spec = _entry(graph, restore, port)
    stored = dt.base(source.weights[key].dtype)
    declared = dt.base(graph[assign.inputs[0].node].attrs["dtype"].type)
    string = dt.enum_of("string")
    names = const_node(f"{name}/names", [key], string)
    slices = const_node(f"{name}/slices", [spec], string)
    dtypes = pb.attr_value_pb2.AttrValue(list=pb.attr_value_pb2.AttrValue.ListValue(type=[stored]))
    read = Node(name, "RestoreV2", (TensorRef(prefix), TensorRef(names.name), TensorRef(slices.name)),
                attrs={"dtypes": dtypes})
    value = TensorRef(name)
    nodes = [names, slices, read]
    if stored != declared:  # a lossless widening (checked_weights refused any other), as the export casts it
        cast_attrs = {"SrcT": pb.attr_value_pb2.AttrValue(type=stored), "DstT": pb.attr_value_pb2.AttrValue(type=declared)}
        nodes.append(Node(f"{name}/cast", "Cast", (value,), attrs=cast_attrs))
        value = TensorRef(f"{name}/cast")
    nodes.append(assign.replace(name=f"{name}/assign", inputs=(assign.inputs[0], value), control_inputs=()))
    return nodes


def _ancestors(graph: Graph, roots: Iterable[str]) -> frozenset[str]:
    """``roots`` and every node they read, through data and control edges."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(graph[name].input_nodes())
    return frozenset(seen)


def _write(graph: Graph, source: Model, path: Path) -> None:
    """The GraphDef, one NodeDef at a time: a lazy constant is read (and checked) when its node is written."""
    with path.open("wb") as out:
        for nd in node_defs(graph, source.weights):
            seed_from_name(nd)
            _field(out, GRAPH_DEF_NODE_FIELD, nd.SerializeToString(deterministic=True))
        if graph.library is not None:
            _field(out, GRAPH_DEF_LIBRARY_FIELD, graph.library.SerializeToString(deterministic=True))
        if graph.versions is not None:
            _field(out, GRAPH_DEF_VERSIONS_FIELD, graph.versions.SerializeToString(deterministic=True))


def _field(out: Any, number: int, payload: bytes) -> None:
    """One length-delimited protobuf field: a GraphDef is the concatenation of its fields."""
    out.write(_varint(number << 3 | 2) + _varint(len(payload)) + payload)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)

