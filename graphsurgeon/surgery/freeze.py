"""freeze(model): variables the outputs need become constants whose bytes stay lazy.

Handles ref variables (VariableV2, legacy Variable) and resource variables
(VarHandleOp read by ReadVariableOp or ResourceGather), rewrites ref-typed
control flow to its value form, and turns an Assign the outputs read through
into the value it assigns, as TensorFlow 1's convert_variables_to_constants did.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

from graphsurgeon.errors import FreezeError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import ASSIGN_AS_VALUE, HANDLE_READS, REF_FLOW, REF_VARIABLE_OPS, VARIABLE_OPS, updates_state
from graphsurgeon.ir.tensors import to_proto
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery.assets import asset_path_assigns, asset_path_variables, read_assets_in_init
from graphsurgeon.surgery.init_values import values_for_missing
from graphsurgeon.surgery.reach import reach_with_init
from graphsurgeon.surgery.select import resolve_all
from graphsurgeon.tf import runtime
from graphsurgeon.tf.protos import pb

log = logging.getLogger(__name__)



def freeze(model: Model, outputs: Sequence[str | TensorRef] | None = None, inputs: Sequence[TensorRef] = (),
           *, init_from_initializers: bool = False, needed: frozenset[str] | None = None) -> Model:
    """Replace every variable the ``outputs`` need with a constant.

    Values come from the model's checkpoint; a variable without one is a
    FreezeError unless ``init_from_initializers`` runs its own initializer.
    A variable that holds an asset's path stays a variable, set by the init op
    from the asset tensor the loader feeds (see surgery.assets).
    Only the needed variables are touched, and no bytes are read here.
    ``needed`` is the planned set of nodes the outputs need (graphsurgeon.plan
    passes it, so the graph is not walked again).
    """
    model.require_graph("freeze")
    graph = model.graph
    output_refs = resolve_all(graph, outputs, "output") if outputs else model.outputs
    if needed is None:
        needed = reach_with_init(graph, model.init_ops, output_refs, inputs)[0].kept if output_refs \
            else frozenset(graph.names)
    _refuse_state_outputs(graph, output_refs)
    variables = [graph[name] for name, op in graph.name_ops() if op in VARIABLE_OPS and name in needed]
    asset_paths = asset_path_variables(model, variables)
    model = model.replace(init_ops=model.init_ops + asset_path_assigns(model, asset_paths))
    graph = read_assets_in_init(graph, model.init_ops, asset_paths)
    variables = [v for v in variables if v.name not in asset_paths]
    keys = {v.name: _checkpoint_key(model, v) for v in variables}
    missing = [v.name for v in variables if keys[v.name] not in model.weights]
    weights = model.weights
    if missing:
        computed = values_for_missing(model, missing, init_from_initializers)
        weights = weights.merged(computed)
        keys.update({name: name for name in computed})
    # Assignments that are init ops are not values the outputs read: the cut keeps
    # those of variables that stay variables (asset paths) and drops the rest.
    converted = needed - set(model.init_ops)
    new_graph = _convert(graph, converted, keys, weights)
    _refuse_remaining_refs(new_graph, converted)
    return model.replace(graph=new_graph, weights=weights, outputs=output_refs or model.outputs)


def _checkpoint_key(model: Model, variable: Node) -> str:
    if variable.name in model.variable_keys:
        return model.variable_keys[variable.name]
    shared = variable.attrs.get("shared_name")
    if variable.op == "VarHandleOp" and shared is not None and shared.s and shared.s.decode("utf-8", "replace") in model.weights:
        return shared.s.decode("utf-8", "replace")
    return variable.name


def _refuse_state_outputs(graph: Graph, outputs: Sequence[TensorRef]) -> None:
    for ref in outputs:
        node = graph[ref.node]
        if updates_state(node.op):
            raise FreezeError(
                f"output {ref} is {node.op} {node.name!r}, which updates a variable; a frozen graph has no state "
                "to update, so choose an output that reads values instead"
            )


def _convert(graph: Graph, needed: frozenset[str], keys: dict[str, str], weights: WeightStore) -> Graph:
    """The graph with each needed variable (and its reads) as a constant; the other nodes are not touched."""
    handle_values = {name: key for name, key in keys.items() if graph[name].op == "VarHandleOp"}
    changes = {}
    for node in graph.nodes_in(needed):
        converted = _converted(graph, node, keys, weights, handle_values)
        if converted is not None:
            changes[node.name] = converted
    new_graph = graph.edited(changes)
    if not handle_values:
        return new_graph
    # VarHandleOps whose every read became a constant are no longer needed.
    still_read = {ref.node for n in new_graph for ref in n.inputs} | {c for n in new_graph for c in n.control_inputs}
    return new_graph.edited({name: [] for name in handle_values if name not in still_read})


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


def _dims(shape_proto) -> list[int] | None:
    return None if shape_proto.unknown_rank else [d.size for d in shape_proto.dim]


def _lazy_const(name: str, dtype_attr, key: str, control_inputs=()) -> Node:
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


def _refuse_remaining_refs(graph: Graph, needed: frozenset[str]) -> None:
    """Any needed op that still takes a ref input would update state the frozen graph lacks."""
    for node in graph.nodes_in(needed):
        op_def = runtime.op_def(node.op)
        if op_def is not None and any(arg.is_ref for arg in op_def.input_arg):
            raise FreezeError(
                f"the outputs depend on {node.op} {node.name!r}, which updates variable "
                f"{node.inputs[0].node!r} in place; freezing cannot keep that update - cut at an output "
                "that does not depend on it"
            )
        if updates_state(node.op):
            raise FreezeError(
                f"the outputs depend on {node.op} {node.name!r}, which updates a resource variable; "
                "freezing cannot keep that update - cut at an output that does not depend on it"
            )
