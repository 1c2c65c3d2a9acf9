"""Tiny graphs built as graphsurgeon IR in code, without TensorFlow (for tests/ir/ and tests/surgery/).

tests/graphs.py builds GraphDefs through tensorflow (for end-to-end tests
that write files and run them); these build the IR directly, so an IR or
surgery unit test runs in milliseconds. Inputs are written as NodeDefs spell
them: "x", "split:1", "^ctrl".
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import graphsurgeon as gs
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.names import split_node_inputs
from graphsurgeon.surgery.select import InputSpec
from graphsurgeon.tf.protos import pb, shape_proto

FLOAT = dt.enum_of("float32")
BOOL = dt.enum_of("bool")
INT32 = dt.enum_of("int32")


def attr(**fields) -> object:
    return pb.attr_value_pb2.AttrValue(**fields)


def op(name: str, op_type: str, inputs: Sequence[str] = (), dtype: int = FLOAT, **attrs: object) -> Node:
    """A node whose type attr T is ``dtype``; extra attrs are AttrValue protos."""
    data, controls = split_node_inputs(inputs)
    return Node(name, op_type, data, controls, {"T": attr(type=dtype), **attrs})


def placeholder(name: str, shape: Sequence[int] | None = (-1,), dtype: int = FLOAT) -> Node:
    return Node(name, "Placeholder", attrs={"dtype": attr(type=dtype), "shape": attr(shape=shape_proto(shape))})


def const(name: str, value: object, dtype: int = FLOAT, control_inputs: tuple[str, ...] = ()) -> Node:
    return const_node(name, np.asarray(value), dtype, control_inputs)


def chain(length: int, start: str = "x") -> list[Node]:
    """start -> n1 -> n2 -> ... -> n{length}, each a Tanh of the one before."""
    nodes, previous = [], start
    for i in range(1, length + 1):
        nodes.append(op(f"n{i}", "Tanh", [previous]))
        previous = f"n{i}"
    return nodes


def model(*nodes: Node, init_ops: tuple[str, ...] = ()) -> Model:
    return Model(graph=Graph(nodes), init_ops=init_ops)


def extract(model: Model, inputs: Sequence[object], outputs: Sequence[object], *, batch_policy: str | None = None,
            **fields: object) -> Model:
    """``model`` cut between ``inputs`` and ``outputs`` (more Recipe fields by keyword), frozen and stripped:
    what `graphsurgeon cut` writes, as a Model (gs.plan(model, recipe).apply())."""
    recipe = gs.Recipe(inputs=[i if isinstance(i, InputSpec) else str(i) for i in inputs] or None,
                       outputs=[str(o) for o in outputs], batch=batch_policy, **fields)  # type: ignore[arg-type]
    return gs.plan(model, recipe).apply()
