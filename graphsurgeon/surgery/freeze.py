"""freeze(model): variables the outputs need become constants whose bytes stay lazy.

Handles ref variables (VariableV2, legacy Variable) and resource variables
(VarHandleOp read by ReadVariableOp or ResourceGather), rewrites ref-typed
control flow to its value form, and turns an Assign the outputs read through
into the value it assigns, as TensorFlow 1's convert_variables_to_constants did.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphsurgeon.errors import FreezeError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.resolve import Resolver
from graphsurgeon.ir.ops import ASSIGN_AS_VALUE, HANDLE_READS, REF_FLOW, REF_VARIABLE_OPS, VARIABLE_OPS, updates_state
from graphsurgeon.ir.tensors import to_proto
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery.assets import asset_path_assigns, asset_path_variables, read_assets_in_init
from graphsurgeon.surgery.init_values import missing_value_problems, values_for_missing
from graphsurgeon.surgery.reach import reach_with_init
from graphsurgeon.tf import runtime
from graphsurgeon.tf.protos import pb

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class FreezePlan:
    """What freezing a cut will do, decided before any weight is read.

    ``keys``: each variable frozen from the checkpoint, and its checkpoint key.
    ``computed``: variables without a checkpoint value that take their
    initializers' values. ``asset_paths``: variables that stay variables (their
    value is an asset's path, assigned by the init op). ``problems``: what
    freezing would refuse (state updates the outputs need, values nobody has).
    """

    outputs: tuple[TensorRef, ...]
    needed: frozenset[str]
    variables: tuple[str, ...]  # every variable the outputs need, in graph order
    keys: Mapping[str, str]
    computed: tuple[str, ...]
    asset_paths: Mapping[str, TensorRef]
    init_from_initializers: bool
    problems: tuple[FreezeError, ...]


def plan_freeze(model: Model, outputs: Sequence[TensorRef], needed: frozenset[str],
                init_from_initializers: bool = False) -> FreezePlan:
    """Which variables ``needed`` holds, where each one's value comes from, and what freezing would refuse."""
    graph = model.graph
    names = [name for name, op in graph.name_ops() if op in VARIABLE_OPS and name in needed]
    asset_paths = asset_path_variables(model, [graph[name] for name in names])
    keys = {name: model.checkpoint_key(name) for name in names if name not in asset_paths}
    computed = tuple(name for name, key in keys.items() if key not in model.weights)
    frozen = {name: key for name, key in keys.items() if name not in computed}
    problems = _state_output_problems(graph, outputs)
    problems += missing_value_problems(model, computed, init_from_initializers)
    problems += _state_update_problems(graph, needed - set(model.init_ops), set(keys))
    return FreezePlan(tuple(outputs), needed, tuple(names), frozen, computed, asset_paths, init_from_initializers,
                      tuple(problems))


def freeze(model: Model, outputs: Sequence[str | TensorRef] | None = None, inputs: Sequence[TensorRef] = (),
           *, init_from_initializers: bool = False) -> Model:
    """Replace every variable the ``outputs`` (default: the model's) need with a constant.

    Values come from the model's checkpoint; a variable without one is a
    FreezeError unless its initial value is constant or ``init_from_initializers``
    runs its own initializer. A variable that holds an asset's path stays a
    variable, set by the init op from the asset tensor the loader feeds (see
    surgery.assets). Only the needed variables are touched, and no bytes are read
    here. graphsurgeon.plan plans this once for a cut (plan_freeze) and applies it
    with freeze_planned; this is the stage for scripts that freeze a whole model.
    """
    model.require_graph("freeze")
    output_refs = Resolver(model).all(outputs, "output") if outputs else model.outputs
    needed = reach_with_init(model.graph, model.init_ops, output_refs, inputs)[0].kept if output_refs \
        else frozenset(model.graph.names)
    planned = plan_freeze(model, output_refs, needed, init_from_initializers)
    if planned.problems:
        raise planned.problems[0]
    return freeze_planned(model, planned)[0]


def freeze_planned(model: Model, planned: FreezePlan) -> tuple[Model, frozenset[str], frozenset[str]]:
    """Freeze as ``planned`` says (its problems already refused): (the frozen model, the nodes it no longer
    needs, the nodes it added).

    Nodes no longer needed are resource handles whose every read became a constant; nodes added are a
    value behind a PlaceholderWithDefault and a gather's params and axis.
    """
    graph = model.graph
    model = model.replace(init_ops=model.init_ops + asset_path_assigns(model, dict(planned.asset_paths)))
    graph = read_assets_in_init(graph, model.init_ops, dict(planned.asset_paths))
    weights, keys = model.weights, dict(planned.keys)
    if planned.computed:
        weights = weights.merged(values_for_missing(model, planned.computed, planned.init_from_initializers))
        keys.update({name: name for name in planned.computed})
    # Assignments that are init ops are not values the outputs read: the cut keeps
    # those of variables that stay variables (asset paths) and drops the rest.
    converted = planned.needed - set(model.init_ops)
    new_graph, unread, added = _convert(graph, converted, keys, weights)
    return model.replace(graph=new_graph, weights=weights, outputs=planned.outputs or model.outputs), unread, added


def _state_output_problems(graph: Graph, outputs: Sequence[TensorRef]) -> list[FreezeError]:
    return [FreezeError(
        f"output {ref} is {graph.op_of(ref.node)} {ref.node!r}, which updates a variable; a frozen graph has no "
        "state to update, so choose an output that reads values instead")
        for ref in outputs if updates_state(graph.op_of(ref.node))]


def _state_update_problems(graph: Graph, converted: frozenset[str] | set[str], frozen: set[str]) -> list[FreezeError]:
    """Needed ops that would still update state once the variables are constants (an optimizer step,
    a scatter): freezing cannot keep the update. Assignments the outputs read through become their value."""
    for node in graph.nodes_in(converted):
        op = _frozen_op(node, frozen)
        if op is None:
            continue
        op_def = runtime.op_def(op)
        if op_def is not None and any(arg.is_ref for arg in op_def.input_arg):
            return [FreezeError(
                f"the outputs depend on {node.op} {node.name!r}, which updates variable {node.inputs[0].node!r} "
                "in place; freezing cannot keep that update - cut at an output that does not depend on it")]
        if updates_state(op):
            return [FreezeError(
                f"the outputs depend on {node.op} {node.name!r}, which updates a resource variable; freezing "
                "cannot keep that update - cut at an output that does not depend on it")]
    return []


def _frozen_op(node: Node, frozen: set[str]) -> str | None:
    """The op ``node`` has after freezing, or None when it becomes a constant."""
    if node.name in frozen or (node.op in HANDLE_READS and node.inputs and node.inputs[0].node in frozen):
        return None
    return REF_FLOW.get(node.op) or ASSIGN_AS_VALUE.get(node.op) or node.op


def _convert(graph: Graph, needed: frozenset[str], keys: dict[str, str],
             weights: WeightStore) -> tuple[Graph, frozenset[str], frozenset[str]]:
    """The graph with each needed variable (and its reads) as a constant, the handles no longer read, and the
    nodes added. The other nodes are not touched, nor built."""
    handle_values = {name: key for name, key in keys.items() if graph.op_of(name) == "VarHandleOp"}
    changes = {}
    for node in graph.nodes_in(needed):
        converted = _converted(graph, node, keys, weights, handle_values)
        if converted is not None:
            changes[node.name] = converted
    new_graph = graph.edited(changes)
    added = frozenset(n.name for name, nodes in changes.items() for n in nodes if n.name != name)
    if not handle_values:
        return new_graph, frozenset(), added
    # VarHandleOps whose every needed read became a constant are no longer needed.
    kept = (needed - changes.keys()) | {n.name for nodes in changes.values() for n in nodes}
    still_read = {ref.node for n in new_graph.nodes_in(kept) for ref in n.inputs}
    still_read |= {c for n in new_graph.nodes_in(kept) for c in n.control_inputs}
    unread = frozenset(name for name in handle_values if name not in still_read)
    return new_graph.edited({name: [] for name in unread}), unread, added


def _converted(graph: Graph, node: Node, keys: dict[str, str], weights: WeightStore,
               handle_values: dict[str, str]) -> list[Node] | None:
    """What a needed node becomes in the frozen graph, or None when it stays as it is."""
    if node.name in keys and node.op in REF_VARIABLE_OPS:
        return _variable_as_const(node, keys[node.name], weights)
    if node.op in HANDLE_READS and node.inputs and node.inputs[0].node in handle_values:
        return _read_as_const(graph, node, handle_values[node.inputs[0].node])
    if node.op in REF_FLOW:
        return [node.replace(op=REF_FLOW[node.op])]
    if node.op in ASSIGN_AS_VALUE:
        log.warning("%s %r becomes %s: freezing drops its variable update", node.op, node.name,
                    ASSIGN_AS_VALUE[node.op])
        return [_assign_as_value(node)]
    return None


def _variable_as_const(variable: Node, key: str, weights: WeightStore) -> list[Node]:
    """The variable's value as a Const, behind a PlaceholderWithDefault if its declared shape is looser.

    A variable made with validate_shape=False (KMeans' cluster centers) declares
    an unknown shape; a Const would give shape inference its current shape and
    make TensorFlow reject branches built for the general case.
    """
    declared = variable.attrs.get("shape")
    value_shape = list(weights[key].shape)
    if declared is None or _dims(declared.shape) == value_shape:
        return [_lazy_const(variable.name, variable.attrs["dtype"], key, variable.control_inputs)]
    value = _lazy_const(variable.name + "/frozen_value", variable.attrs["dtype"], key, variable.control_inputs)
    attrs = {"dtype": variable.attrs["dtype"], "shape": declared}
    return [value, Node(variable.name, "PlaceholderWithDefault", (TensorRef(value.name),), attrs=attrs)]


def _dims(shape_proto: Any) -> list[int] | None:
    return None if shape_proto.unknown_rank else [d.size for d in shape_proto.dim]


def _lazy_const(name: str, dtype_attr: Any, key: str, control_inputs: Iterable[str] = ()) -> Node:
    return Node(name, "Const", control_inputs=tuple(control_inputs), attrs={"dtype": dtype_attr}, weight=key)


def _read_as_const(graph: Graph, node: Node, key: str) -> list[Node]:
    """ReadVariableOp -> the value; ResourceGather -> GatherV2 over the value."""
    if node.op == "VarIsInitializedOp":
        tensor = to_proto(True)
        return [Node(node.name, "Const", control_inputs=node.control_inputs,
                     attrs={"dtype": pb.attr_value_pb2.AttrValue(type=tensor.dtype),
                            "value": pb.attr_value_pb2.AttrValue(tensor=tensor)})]
    if node.op == "ReadVariableOp":
        return [_lazy_const(node.name, node.attrs["dtype"], key, node.control_inputs)]
    value = _lazy_const(node.name + "/frozen_params", node.attrs["dtype"], key)
    axis_tensor = to_proto(node.attrs["batch_dims"].i if "batch_dims" in node.attrs else 0, dt.enum_of("int32"))
    axis = Node(node.name + "/frozen_axis", "Const", attrs={
        "dtype": pb.attr_value_pb2.AttrValue(type=axis_tensor.dtype),
        "value": pb.attr_value_pb2.AttrValue(tensor=axis_tensor)})
    attrs = {"Tparams": node.attrs["dtype"], "Tindices": node.attrs["Tindices"],
             "Taxis": pb.attr_value_pb2.AttrValue(type=dt.enum_of("int32"))}
    if "batch_dims" in node.attrs:
        attrs["batch_dims"] = node.attrs["batch_dims"]
    gather = Node(node.name, "GatherV2", (TensorRef(value.name), node.inputs[1], TensorRef(axis.name)),
                  node.control_inputs, attrs, node.device)
    return [value, axis, gather]


def _assign_as_value(node: Node) -> Node:
    attrs = {"T": node.attrs["T"]}
    if node.op == "Assign":
        return Node(node.name, "Identity", (node.inputs[1],), node.control_inputs, attrs, node.device)
    return Node(node.name, ASSIGN_AS_VALUE[node.op], node.inputs[:2], node.control_inputs, attrs, node.device)
