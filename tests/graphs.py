"""Small GraphDefs built node by node, for the graph shapes that break tools."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

FLOAT = tf.float32.as_datatype_enum


def node(graph_def, name: str, op: str, inputs=(), **attrs):
    nd = graph_def.node.add(name=name, op=op)
    nd.input.extend(inputs)
    for key, value in attrs.items():
        if isinstance(value, tf.DType):
            nd.attr[key].type = value.as_datatype_enum
        elif isinstance(value, np.ndarray):
            nd.attr[key].tensor.CopyFrom(tf.make_tensor_proto(value))
        elif isinstance(value, int):
            nd.attr[key].i = value
        elif isinstance(value, list):
            nd.attr[key].shape.CopyFrom(tf.TensorShape(value).as_proto())
    return nd


def placeholder(graph_def, name: str, shape=None):
    return node(graph_def, name, "Placeholder", dtype=tf.float32, shape=shape if shape is not None else [None])


def const(graph_def, name: str, value):
    value = np.asarray(value, np.float32)
    return node(graph_def, name, "Const", dtype=tf.float32, value=value)


def unary(graph_def, name: str, op: str, x: str):
    return node(graph_def, name, op, [x], T=tf.float32)


def binary(graph_def, name: str, op: str, x: str, y: str):
    return node(graph_def, name, op, [x, y], T=tf.float32)


def save(graph_def, path: Path) -> Path:
    path.write_bytes(graph_def.SerializeToString())
    return path


def new() -> tf.compat.v1.GraphDef:
    return tf.compat.v1.GraphDef()
