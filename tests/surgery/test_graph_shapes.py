"""Cuts on the graph shapes that break graph tools."""
from __future__ import annotations

import logging

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon import errors
from graphsurgeon.exporters.graphdef import write_graph_def
from graphsurgeon.surgery.select import InputSpec
from tests import graphs
from tests.tfrun import run_pb
from tests.tiny import extract


def test_ten_thousand_node_chain(tmp_path):
    """x -> n1 -> n2 -> ... -> n10000: no recursion limit, and the cut is exact.

    Checked structurally: TensorFlow itself needs ~20 s to run a chain this deep.
    """
    g = graphs.new()
    graphs.placeholder(g, "x")
    previous = "x"
    for i in range(1, 10_001):
        graphs.unary(g, f"n{i}", "Neg", previous)
        previous = f"n{i}"
    model = gs.load(graphs.save(g, tmp_path / "chain.pb"))
    assert len(model.graph.topological_order()) == 10_001
    cut = extract(model, ["n100"], ["n10000"])
    assert len(cut.graph) == 9_901  # Placeholder n100 + n101..n10000
    write_graph_def(cut, tmp_path / "cut.pb")
    written = gs.load(tmp_path / "cut.pb").graph
    assert written["n100"].op == "Placeholder" and "x" not in written
    assert written["n101"].inputs == (gs.TensorRef("n100"),)
    assert written.topological_order()[-1] == "n10000"


def test_diamond_is_not_a_cycle(tmp_path):
    """
        x
       / \\
      a   b
       \\ /
        d
    """
    g = graphs.new()
    graphs.placeholder(g, "x")
    graphs.unary(g, "a", "Neg", "x")
    graphs.unary(g, "b", "Square", "x")
    graphs.binary(g, "d", "AddV2", "a", "b")
    model = gs.load(graphs.save(g, tmp_path / "diamond.pb"))
    assert model.graph.topological_order() == ["x", "a", "b", "d"]
    cut = extract(model, ["x"], ["d"])
    write_graph_def(cut, tmp_path / "cut.pb")
    (out,) = run_pb(tmp_path / "cut.pb", {"x": np.array([3.0], np.float32)}, ["d:0"])
    assert out.tolist() == [6.0]


def test_cut_at_port_one_of_multi_output_node(tmp_path):
    """
        x -> split:0 -> neg0
             split:1 -> neg1      cut input split:1, output neg1
    """
    g = graphs.new()
    graphs.placeholder(g, "x", [None, 4])
    graphs.const(g, "axis", 1).attr["dtype"].type = 3
    g.node[-1].attr["value"].tensor.CopyFrom(graphs.tf.make_tensor_proto(1, graphs.tf.int32))
    graphs.node(g, "split", "Split", ["axis", "x"], T=graphs.tf.float32, num_split=2)
    graphs.unary(g, "neg0", "Neg", "split")
    graphs.unary(g, "neg1", "Neg", "split:1")
    model = gs.load(graphs.save(g, tmp_path / "split.pb"))
    cut = extract(model, ["split:1"], ["neg1"])
    assert sorted(n.name for n in cut.graph) == ["neg1", "split_1"]
    placeholder = cut.graph["split_1"]
    assert [d.size for d in placeholder.attrs["shape"].shape.dim] == [-1, 2]
    write_graph_def(cut, tmp_path / "cut.pb")
    (out,) = run_pb(tmp_path / "cut.pb", {"split_1": np.ones((1, 2), np.float32)}, ["neg1:0"])
    assert out.tolist() == [[-1.0, -1.0]]


def test_non_separating_cut_is_a_cut_error(tmp_path):
    """
        x -> a -> c      cutting at a leaves x reachable through b
        x -> b -/
    """
    g = graphs.new()
    graphs.placeholder(g, "x")
    graphs.unary(g, "a", "Neg", "x")
    graphs.unary(g, "b", "Square", "x")
    graphs.binary(g, "c", "AddV2", "a", "b")
    model = gs.load(graphs.save(g, tmp_path / "g.pb"))
    with pytest.raises(errors.CutError, match=r"Placeholder 'x'.*path: c <- b <- x"):
        extract(model, ["a"], ["c"])


def test_unused_input_warns_and_stays_placeholder(tmp_path, caplog):
    g = graphs.new()
    graphs.placeholder(g, "x")
    graphs.placeholder(g, "y")
    graphs.unary(g, "a", "Neg", "x")
    model = gs.load(graphs.save(g, tmp_path / "g.pb"))
    with caplog.at_level(logging.WARNING, logger="graphsurgeon"):
        cut = extract(model, ["x", "y"], ["a"])
    assert "input y:0 is not used" in caplog.text
    assert cut.graph["y"].op == "Placeholder"


def test_input_dtype_and_shape_override(tmp_path):
    g = graphs.new()
    graphs.placeholder(g, "x")
    graphs.unary(g, "a", "Neg", "x")
    model = gs.load(graphs.save(g, tmp_path / "g.pb"))
    cut = extract(model, [InputSpec.parse("x=float32[?,224,224,3]")], ["a"])
    assert [d.size for d in cut.graph["x"].attrs["shape"].shape.dim] == [-1, 224, 224, 3]


def test_stripping_keeps_cond_pivots_and_control_edges(corpus, tmp_path):
    """tf.cond's switch_t/switch_f Identities carry control edges; they must survive."""
    model = extract(gs.load(corpus / "tfnet_meta_cond_test" / "cond_test.meta"), [], ["cond/Merge"])
    names = {n.name for n in model.graph}
    assert {"cond/switch_t", "cond/switch_f", "cond/Switch"} <= names
    assert model.graph["cond/Mul"].inputs[0] == gs.TensorRef("cond/Mul/Switch", 1)
    assert "cond/switch_t" in model.graph["cond/Mul/y"].control_inputs
