"""Building Const nodes with inline values."""
from __future__ import annotations

from numpy.typing import ArrayLike

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Node
from graphsurgeon.ir.tensors import to_proto
from graphsurgeon.tf.protos import pb


def const_node(name: str, array: ArrayLike, dtype: int, control_inputs: tuple[str, ...] = ()) -> Node:
    tensor = to_proto(array, dtype)
    attrs = {"dtype": pb.attr_value_pb2.AttrValue(type=dt.base(dtype)),
             "value": pb.attr_value_pb2.AttrValue(tensor=tensor)}
    return Node(name, "Const", control_inputs=control_inputs, attrs=attrs)
