"""Graphs as training code leaves them: tf.data iterators, CheckNumerics, train ops hung on outputs."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import graphsurgeon as gs
from graphsurgeon import errors, surgery
from graphsurgeon.exporters.graphdef import write_graph_def
from tests.tfrun import run_pb
from tests.tiny import extract

v1 = tf.compat.v1


@pytest.fixture(scope="module")
def iterator_graph(tmp_path_factory):
    """
        dataset -> IteratorGetNext:0 (features [?,4]) --> scale -> checked (CheckNumerics) -> out
                   IteratorGetNext:1 (labels [?])   --> loss <- out        train (NoOp) -^ control edge
    """
    graph = tf.Graph()
    with graph.as_default():
        features = np.arange(12, dtype=np.float32).reshape(3, 4)
        dataset = tf.data.Dataset.from_tensor_slices((features, np.arange(3, dtype=np.int64))).batch(2)
        x, y = v1.data.make_one_shot_iterator(dataset).get_next()
        scaled = tf.multiply(x, 2.0, name="scale")
        checked = tf.debugging.check_numerics(scaled, "bad", name="checked")
        loss = tf.reduce_mean(tf.square(checked - tf.cast(y[:, None], tf.float32)), name="loss")
        with tf.control_dependencies([tf.no_op(name="train")]):
            tf.identity(checked, name="out")
        v1.summary.scalar("loss", loss)
    path = tmp_path_factory.mktemp("iter") / "g.pb"
    path.write_bytes(graph.as_graph_def().SerializeToString())
    return path


def test_iterator_port_zero_becomes_placeholder_with_its_shape(iterator_graph, tmp_path):
    model = extract(gs.load(iterator_graph), ["IteratorGetNext:0"], ["out"])
    assert not any(n.op.startswith(("Iterator", "OneShot")) for n in model.graph)
    placeholder = model.graph["IteratorGetNext"]
    assert [d.size for d in placeholder.attrs["shape"].shape.dim] == [-1, 4]
    assert not any(n.op == "CheckNumerics" for n in model.graph)  # stripped
    assert "train" not in model.graph  # control edge to a training-only NoOp is dropped
    write_graph_def(model, tmp_path / "out.pb")
    (out,) = run_pb(tmp_path / "out.pb", {"IteratorGetNext": np.ones((2, 4), np.float32)}, ["out:0"])
    assert out.tolist() == [[2.0] * 4] * 2


def test_unfed_iterator_is_a_cut_error(iterator_graph):
    with pytest.raises(errors.CutError, match=r"IteratorGetNext 'IteratorGetNext'.*path: loss <- .*IteratorGetNext"):
        surgery.cut(gs.load(iterator_graph), ["IteratorGetNext:1"], ["loss"])


def test_both_iterator_ports_as_inputs(iterator_graph):
    model = surgery.cut(gs.load(iterator_graph), ["IteratorGetNext:0", "IteratorGetNext:1"], ["loss"])
    labels = model.graph["IteratorGetNext_1"]
    assert labels.op == "Placeholder" and labels.attrs["dtype"].type == tf.int64.as_datatype_enum
    assert [d.size for d in labels.attrs["shape"].shape.dim] == [-1]


def test_binding_an_inner_tensor(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None], name="x")
        a = tf.negative(x, name="a")
        tf.add(a, tf.square(x, name="b"), name="d")
    path = tmp_path / "g.pb"
    path.write_bytes(graph.as_graph_def().SerializeToString())
    model = extract(gs.load(path), ["x"], ["d"], bindings={"a:0": [10.0, 20.0]})
    assert "a" not in model.graph and model.graph["a/bound_0"].op == "Const"
    write_graph_def(model, tmp_path / "out.pb")
    (out,) = run_pb(tmp_path / "out.pb", {"x": np.array([1.0, 2.0], np.float32)}, ["d:0"])
    assert out.tolist() == [11.0, 24.0]
