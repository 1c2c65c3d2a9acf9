"""Building Const nodes with inline values."""
from __future__ import annotations

from graphsurgeon import _tf
from graphsurgeon.ir.graph import Node


def const_node(name: str, array, dtype: int, control_inputs: tuple[str, ...] = ()) -> Node:
    tensor = _tf.make_tensor_proto(array, dtype)
    attrs = {"dtype": _tf.pb.attr_value_pb2.AttrValue(type=_tf.base_enum(dtype)),
             "value": _tf.pb.attr_value_pb2.AttrValue(tensor=tensor)}
    return Node(name, "Const", control_inputs=control_inputs, attrs=attrs)
