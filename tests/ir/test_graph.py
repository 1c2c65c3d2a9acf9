"""Graph indexes and order on the shapes that break graph tools: a long chain, a diamond, a while loop."""
from __future__ import annotations

from graphsurgeon.ir.graph import Graph
from graphsurgeon.names import TensorRef
from tests.tiny import chain, op, placeholder


def test_a_10000_node_chain_sorts_without_recursion():
    # x -> n1 -> n2 -> ... -> n10000, listed backwards so the sort has to work
    graph = Graph([placeholder("x"), *reversed(chain(10_000))])
    order = graph.topological_order()
    assert order[0] == "x" and order[-1] == "n10000" and len(order) == 10_001
    assert graph.consumers["n9999"] == ("n10000",)


def test_a_diamond_is_not_a_cycle():
    #        +-> l (Tanh) --+
    #   x ---+              +--> add --> out
    #        +-> r (Neg) ---+
    graph = Graph([placeholder("x"), op("l", "Tanh", ["x"]), op("r", "Neg", ["x"]),
                   op("add", "AddV2", ["l", "r"]), op("out", "Identity", ["add"])])
    assert graph.topological_order() == ["x", "l", "r", "add", "out"]
    assert graph.consumers["x"] == ("l", "r")
    assert graph.data_consumers[TensorRef("x")] == (("l", 0), ("r", 0))


def test_ties_keep_source_order_and_control_edges_count():
    #   b   a --^--> c      (c runs after a: a control edge)
    graph = Graph([placeholder("b"), placeholder("a"), op("c", "Identity", ["b", "^a"])])
    assert graph.topological_order() == ["b", "a", "c"]
    assert graph.consumers["a"] == ("c",)


def test_next_iteration_back_edges_are_ignored():
    #   x -> enter -> merge -> body -> next --+
    #                  ^                      |
    #                  +----------------------+   (a v1 loop's back edge)
    graph = Graph([placeholder("x"), op("enter", "Enter", ["x"]), op("merge", "Merge", ["enter", "next"]),
                   op("body", "Tanh", ["merge"]), op("next", "NextIteration", ["body"])])
    assert graph.topological_order() == ["x", "enter", "merge", "body", "next"]


def test_source_looks_through_identities_and_stops_on_a_loop():
    graph = Graph([placeholder("x"), op("i1", "Identity", ["x"]), op("i2", "Identity", ["i1"]),
                   op("a", "Identity", ["b"]), op("b", "Identity", ["a"])])
    assert graph.source(TensorRef("i2")) == TensorRef("x")
    assert graph.source(TensorRef("a")) in (TensorRef("a"), TensorRef("b"))
