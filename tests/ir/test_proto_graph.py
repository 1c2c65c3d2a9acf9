"""A graph over a GraphDef builds each Node on first use, and an edited graph shares what it did not change.

The cut of a 100k-node checkpoint keeps a few thousand nodes; these tests pin
down that asking by op, by name or for a node builds only what is asked for,
and that the answers (order, errors) are those of a graph built in full.
"""
from __future__ import annotations

import pytest

from graphsurgeon.errors import LoadError
from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.proto import ProtoNodes, graph_from_proto
from graphsurgeon.names import TensorRef
from graphsurgeon.tf.protos import pb
from tests.tiny import op


def graph_def(*nodes: tuple[str, str, list[str]]):
    proto = pb.graph_pb2.GraphDef()
    for name, op_type, inputs in nodes:
        proto.node.add(name=name, op=op_type, input=inputs)
    return proto


#   x -> w/read -> mm -> out        v (a variable) -> w/read;  init (NoOp) waits on assign
CHAIN = graph_def(("x", "Placeholder", []), ("v", "VariableV2", []), ("w/read", "Identity", ["v"]),
                  ("mm", "MatMul", ["x", "w/read"]), ("out", "Tanh", ["mm"]),
                  ("assign", "Assign", ["v", "x"]), ("init", "NoOp", ["^assign"]))


def built(graph: Graph) -> list[str]:
    nodes = graph._nodes
    assert isinstance(nodes, ProtoNodes)
    return [name for name, node in zip(nodes, nodes._built) if node is not None]


def test_asking_by_op_or_name_builds_only_those_nodes():
    graph = graph_from_proto(CHAIN, "chain.pb")
    assert built(graph) == []
    assert [n.name for n in graph.of_ops({"VariableV2", "NoOp"})] == ["v", "init"]
    assert graph.op_of("mm") == "MatMul" and list(graph.name_ops())[2] == ("w/read", "Identity")
    assert graph.source(TensorRef("w/read")) == TensorRef("v")
    assert graph.inputs_of("assign") == (TensorRef("v"), TensorRef("x"))
    assert built(graph) == ["v", "init"]
    assert [n.name for n in graph.nodes_in({"out", "x"})] == ["x", "out"]  # source order, not the set's
    assert graph["mm"].inputs == (TensorRef("x"), TensorRef("w/read"))


def test_a_fully_built_graph_equals_one_built_from_nodes():
    lazy = graph_from_proto(CHAIN, "chain.pb")
    eager = Graph(list(lazy))
    assert [tuple(n) for n in lazy] == [tuple(n) for n in eager]
    assert lazy.consumers == eager.consumers and lazy.topological_order() == eager.topological_order()


def test_a_missing_input_is_named_when_its_node_is_built():
    graph = graph_from_proto(graph_def(("x", "Placeholder", []), ("y", "Tanh", ["gone:1"])), "cut.pb")
    assert graph["x"].op == "Placeholder"  # the rest of the graph is usable
    with pytest.raises(LoadError, match=r"cut.pb: node 'y' reads from 'gone', which is not in the graph"):
        graph["y"]


def test_inputs_asked_unbuilt_are_checked_like_a_built_node():
    graph = graph_from_proto(graph_def(("x", "Placeholder", []), ("y", "Tanh", ["gone:1"])), "cut.pb")
    with pytest.raises(LoadError, match=r"cut.pb: node 'y' reads from 'gone', which is not in the graph"):
        graph.inputs_of("y")


@pytest.mark.parametrize("inputs", [[""], ["^"]])
def test_an_empty_input_name_is_named_as_such(inputs):
    graph = graph_from_proto(graph_def(("x", "Placeholder", []), ("y", "Tanh", inputs)), "m.pb")
    with pytest.raises(LoadError, match="node 'y' has an input with an empty name"):
        list(graph)


def test_a_repeated_name_is_refused_when_the_graph_is_made():
    with pytest.raises(LoadError, match="node name 'x' is used twice"):
        graph_from_proto(graph_def(("x", "Placeholder", []), ("x", "Tanh", ["x"])), "m.pb")


def test_edited_replaces_in_place_expands_and_removes_without_building_the_rest():
    graph = graph_from_proto(CHAIN, "chain.pb")
    frozen = graph.edited({"v": [op("v/frozen_value", "Const"), op("v", "PlaceholderWithDefault", ["v/frozen_value"])],
                           "assign": [], "init": []})
    assert frozen.names == ["x", "v/frozen_value", "v", "w/read", "mm", "out"]
    assert "assign" not in frozen and frozen.get("assign") is None
    assert frozen.op_of("v") == "PlaceholderWithDefault" and frozen.op_of("out") == "Tanh"
    assert [n.name for n in frozen.of_ops({"Const", "Tanh", "Placeholder"})] == ["x", "v/frozen_value", "out"]
    assert built(graph) == ["x", "out"]  # of_ops asked the base for its own; nothing else was built
    assert graph.op_of("v") == "VariableV2" and len(graph) == 7  # the original is unchanged
    assert len(frozen) == 6 and "v/frozen_value" in frozen and "nothing" not in frozen


@pytest.mark.parametrize("changes, names", [
    ({"x": [op("mm", "Placeholder")]}, ["mm", "v", "w/read", "out", "assign", "init"]),  # onto a kept name
    ({"x": [op("a", "Const")], "out": [op("a", "Const")]}, ["a", "v", "w/read", "mm", "assign", "init"]),  # twice
])
def test_an_edit_onto_a_name_already_there_keeps_its_first_position(changes, names):
    edited = graph_from_proto(CHAIN, "chain.pb").edited(changes)
    assert edited.names == names and len(edited) == len(names) and "x" not in edited
    assert all(name in edited for name in names) and edited[names[0]].op in ("Placeholder", "Const")
