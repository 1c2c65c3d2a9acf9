"""Dead-branch folding on tiny tf.cond graphs built in code (no TensorFlow)."""
from __future__ import annotations

import numpy as np
import pytest

from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery.fold import constant_bool, fold_constant_switches
from tests.tiny import BOOL, INT32, attr, const, op, placeholder


def cond_graph(pred: bool, *extra) -> Graph:
    """tf.cond(pred, lambda: tanh(x), lambda: -x), the v1 way:

        x ----------+
        pred ----> sw (Switch) -:0 (false)-> f (Neg) ---+
           \\                   -:1 (true)--> t (Tanh) --+--> m (Merge) --> out (Identity)
            +-> pred_id (Identity)     (the predicate, looked through)
    """
    return Graph([
        placeholder("x"), const("pred", pred, BOOL), op("pred_id", "Identity", ["pred"], dtype=BOOL),
        op("sw", "Switch", ["x", "pred_id"]), op("f", "Neg", ["sw"]), op("t", "Tanh", ["sw:1"]),
        op("m", "Merge", ["f", "t"], N=attr(i=2)), op("out", "Identity", ["m"]), *extra,
    ])


@pytest.mark.parametrize("pred, taken, untaken", [(True, "t", "f"), (False, "f", "t")])
def test_the_untaken_branch_disappears_and_merge_becomes_identity(pred, taken, untaken):
    folded = fold_constant_switches(cond_graph(pred))
    assert untaken not in folded
    assert folded[taken].inputs == (TensorRef("x"),)  # reads x directly, not through the Switch
    assert (folded["m"].op, folded["m"].inputs) == ("Identity", (TensorRef(taken),))
    assert folded["out"].inputs == (TensorRef("m"),)


def test_a_control_edge_from_a_dead_node_makes_its_consumer_dead():
    #   f (dead) --^--> after (Identity of x)
    folded = fold_constant_switches(cond_graph(True, op("after", "Identity", ["x", "^f"])))
    assert "after" not in folded and "f" not in folded


def test_merge_value_index_becomes_a_constant():
    #   m:1 (value_index: which input arrived) --> idx
    folded = fold_constant_switches(cond_graph(True, op("idx", "Identity", ["m:1"], dtype=INT32)))
    index = folded[folded["idx"].inputs[0].node]
    assert index.op == "Const" and to_array(index.attrs["value"].tensor) == np.int32(1)  # t is Merge input 1


def test_a_non_constant_predicate_folds_nothing():
    graph = Graph([placeholder("x"), placeholder("p", (), BOOL), op("sw", "Switch", ["x", "p"]),
                   op("t", "Tanh", ["sw:1"])])
    assert fold_constant_switches(graph) is graph
    assert constant_bool(graph, TensorRef("p")) is None


def test_constant_bool_reads_only_scalar_bools():
    graph = Graph([const("yes", True, BOOL), const("many", [True, False], BOOL), const("one", 1.0)])
    assert constant_bool(graph, TensorRef("yes")) is True
    assert constant_bool(graph, TensorRef("many")) is None
    assert constant_bool(graph, TensorRef("one")) is None


def test_a_switch_inside_a_loop_frame_is_left_alone():
    #   x -> enter (frame "loop") --------> sw (Switch) -:1-> t
    #          \--^--> pred (Const true) --^   (inside the frame through a control edge)
    graph = Graph([placeholder("x"), op("enter", "Enter", ["x"], frame_name=attr(s=b"loop")),
                   const("pred", True, BOOL, control_inputs=("enter",)),
                   op("sw", "Switch", ["enter", "pred"]), op("t", "Tanh", ["sw:1"]), op("f", "Neg", ["sw"])])
    assert constant_bool(graph, TensorRef("pred")) is True
    assert fold_constant_switches(graph) is graph
    # the same Switch in the root frame (the Enter an Identity) folds
    root = graph.with_nodes(op(n.name, "Identity", ["x"]) if n.op == "Enter" else n for n in graph)
    assert "f" not in fold_constant_switches(root)
