"""What a node produces: output dtypes from op definitions, sizes of constants."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from graphsurgeon.errors import GraphSurgeonError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.ops import READS, VARIABLE_OPS
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.names import TensorRef
from graphsurgeon.tf import runtime


def variable_behind(graph: Graph, ref: TensorRef) -> str:
    """The variable a value is read from through Identity / ReadVariableOp nodes, else ''."""
    source = graph[graph.source(ref, READS).node]
    return source.name if source.op in VARIABLE_OPS else ""


def _attr_type(node: Node, name: str, default: Any) -> Any:  # an AttrValue proto
    attr = node.attrs.get(name)
    if attr is None and default is None:
        raise GraphSurgeonError(
            f"node {node.name!r} ({node.op}) has no {name!r} attr, which its op requires; the graph is damaged or "
            f"was edited by hand: add the attr (e.g. attr {{ key: \"{name}\" value {{ type: DT_FLOAT }} }}) "
            "or re-export the model"
        )
    return attr if attr is not None else default


def unregistered_ops(ops: Iterable[str], library: Any = None) -> list[str]:
    """Ops neither registered in this TensorFlow nor defined by the graph's function library."""
    functions = {f.signature.name for f in getattr(library, "function", ())}
    return sorted({op for op in ops if op not in functions and runtime.op_def(op) is None})


def unregistered_ops_of(nodes: Iterable[Node], library: Any = None,
                        functions_too: Iterable[str] = ()) -> dict[str, str]:
    """Op -> where it is first used, for every op ``nodes`` need that TensorFlow does not register: their
    own, and those of the library functions they call (StatefulPartitionedCall's f, If's and While's
    branches, a function called by name), transitively, and of ``functions_too``. Sorted by op."""
    functions = {f.signature.name: f for f in getattr(library, "function", ())}
    found: dict[str, str] = {}
    checked: set[str] = set(functions)  # each op is looked up once; a function is not an op
    calls = [name for name in functions_too if name in functions]

    def visit(op: str, attrs: Iterable[Any], where: str) -> None:
        if functions:
            calls.extend(_called(op, attrs, functions))
        if op not in checked:
            checked.add(op)
            if runtime.op_def(op) is None:
                found[op] = where

    for node in nodes:
        visit(node.op, node.attrs.values(), f"node {node.name!r}")
    seen: set[str] = set()
    while calls:
        name = calls.pop()
        if name not in seen:
            seen.add(name)
            for inner in functions[name].node_def:
                visit(inner.op, inner.attr.values(), f"node {inner.name!r} of function {name!r}")
    return dict(sorted(found.items()))


def _called(op: str, attrs: Iterable[Any], functions: Mapping[str, Any]) -> list[str]:
    """Library functions a node calls: by its op, or through function-valued attrs."""
    names = [op] if op in functions else []
    for attr in attrs:
        kind = attr.WhichOneof("value")
        if kind == "func":
            names.append(attr.func.name)
        elif kind == "list":
            names += [f.name for f in attr.list.func]
    return [n for n in names if n in functions]


def output_dtypes(node: Node, graph: Graph | None = None) -> list[int]:
    """DataType enums of every output of ``node`` (ref types kept as refs)."""
    if node.op == "Placeholder":
        # Its one output has the node's own "dtype" in every TensorFlow release. Answered without the op
        # registry, so inspecting a Keras file (whose inputs are Placeholders) never imports TensorFlow,
        # even on a fresh install whose op-definition cache is not written yet.
        return [_attr_type(node, "dtype", None).type]
    op_def = runtime.op_def(node.op)
    if op_def is None:
        return _function_output_dtypes(node, graph)
    defaults = {a.name: a.default_value for a in op_def.attr if a.HasField("default_value")}
    types: list[int] = []
    for arg in op_def.output_arg:
        if arg.type:
            arg_types = [arg.type]
        elif arg.type_attr:
            arg_types = [_attr_type(node, arg.type_attr, defaults.get(arg.type_attr)).type]
        else:
            arg_types = list(_attr_type(node, arg.type_list_attr, defaults.get(arg.type_list_attr)).list.type)
        if arg.number_attr:
            arg_types *= _attr_type(node, arg.number_attr, defaults.get(arg.number_attr)).i
        if arg.is_ref:
            arg_types = [dt.ref_of(t) for t in arg_types]
        types.extend(arg_types)
    return types


def _function_output_dtypes(node: Node, graph: Graph | None) -> list[int]:
    library = graph.library if graph is not None else None
    for function in getattr(library, "function", ()):
        if function.signature.name == node.op:
            return [node.attrs[a.type_attr].type if a.type_attr else a.type for a in function.signature.output_arg]
    raise GraphSurgeonError(
        f"node {node.name!r} uses op {node.op!r}, which this TensorFlow does not define; "
        "install the package that registers it (e.g. tensorflow-text) and retry"
    )


def output_dtype(node: Node, port: int, graph: Graph | None = None) -> int:
    types = output_dtypes(node, graph)
    if port >= len(types):
        raise GraphSurgeonError(
            f"node {node.name!r} ({node.op}) has {len(types)} output(s); port {port} does not exist"
        )
    return types[port]


def const_nbytes(node: Node, weights: WeightStore) -> int:
    """Bytes a Const holds: from its lazy weight, or from its inline TensorProto's header."""
    return const_value_nbytes(node.attrs, node.weight, weights)


def const_value_nbytes(attrs: Mapping[str, Any], weight: str | None, weights: WeightStore) -> int:
    """const_nbytes from a Const's attrs and weight key (Graph.attrs_of and weight_of: the node unbuilt)."""
    if weight is not None:
        return weights[weight].nbytes
    value = attrs.get("value")
    if value is None:
        return 0
    tensor = value.tensor
    content = tensor.tensor_content
    if content:
        return len(content)
    strings = tensor.string_val
    if strings:
        return sum(map(len, strings))
    return dt.itemsize(tensor.dtype) * math.prod([d.size for d in tensor.tensor_shape.dim])
