"""Running graphs with TensorFlow itself, to compare graphsurgeon's output with the original."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import variable_pb2

v1 = tf.compat.v1


def run_pb(path: Path | str, feeds: dict[str, np.ndarray], fetches: list[str]) -> list[np.ndarray]:
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(Path(path).read_bytes())
    return run_graph_def(graph_def, feeds, fetches)


def run_graph_def(graph_def, feeds, fetches):
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    with v1.Session(graph=graph) as session:
        return session.run(fetches, {_tensor(k): v for k, v in feeds.items()})


def run_checkpoint(meta: Path | str, prefix: str | None, feeds, fetches, clear_version: bool = False):
    """The original model: import its MetaGraph, restore the checkpoint, run."""
    meta_graph = v1.MetaGraphDef()
    meta_graph.ParseFromString(Path(meta).read_bytes())
    if clear_version:  # TF 2.21 cannot parse '0.12.head'
        meta_graph.meta_info_def.ClearField("tensorflow_version")
    graph = tf.Graph()
    with graph.as_default():
        saver = v1.train.import_meta_graph(meta_graph, clear_devices=True)
        with v1.Session(graph=graph) as session:
            if prefix:
                saver.restore(session, prefix)
            return session.run(fetches, {_tensor(k): v for k, v in feeds.items()})


def run_with_initializers(meta: Path | str, feeds, fetches, init_op="init"):
    meta_graph = v1.MetaGraphDef()
    meta_graph.ParseFromString(Path(meta).read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        v1.train.import_meta_graph(meta_graph, clear_devices=True)
        with v1.Session(graph=graph) as session:
            session.run(graph.get_operation_by_name(init_op))
            return session.run(fetches, {_tensor(k): v for k, v in feeds.items()})


def _tensor(name: str) -> str:
    return name if ":" in name else name + ":0"


def variable_initializers(meta_graph_path) -> list[str]:
    """The initializer op of every variable a MetaGraph lists."""
    meta = v1.MetaGraphDef()
    meta.ParseFromString(Path(meta_graph_path).read_bytes())
    names = []
    for key in ("variables", "local_variables"):
        for raw in meta.collection_def[key].bytes_list.value:
            names.append(variable_pb2.VariableDef.FromString(raw).initializer_name)
    return sorted(set(names))


def run_seeded_with_init(graph_def, init_ops: str | list[str], feeds, fetches):
    """The original graph with graphsurgeon's initializer seeding, its init op run first.

    Unseeded random initializers differ on every run; graphsurgeon seeds them
    from node names, so the reference must use the same seeds to compare.
    """
    from graphsurgeon.tf import runtime

    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(runtime._seeded(graph_def), name="")
    with v1.Session(graph=graph) as session:
        for name in [init_ops] if isinstance(init_ops, str) else init_ops:
            session.run(graph.get_operation_by_name(name))
        return session.run(fetches, {_tensor(k): v for k, v in feeds.items()})
