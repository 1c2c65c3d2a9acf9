"""TensorRef.parse: the one place that reads "node", "node:port" and "^ctrl"."""
from __future__ import annotations

import pytest

from graphsurgeon.errors import UsageError
from graphsurgeon.names import TensorRef, split_node_inputs


@pytest.mark.parametrize("text, expected", [
    ("encoder/out", TensorRef("encoder/out", 0)),
    ("IteratorGetNext:1", TensorRef("IteratorGetNext", 1)),
    ("  split:12 ", TensorRef("split", 12)),
    ("scope:name", TensorRef("scope:name", 0)),  # a colon not followed by digits is part of the name
    ("a:b:3", TensorRef("a:b", 3)),  # only the last colon separates the port
])
def test_parse_node_and_tensor_names(text, expected):
    assert TensorRef.parse(text) == expected


@pytest.mark.parametrize("text", ["^ctrl", "", "   "])
def test_parse_refuses_control_inputs_and_empty_names(text):
    with pytest.raises(UsageError, match="is not a tensor name: give a node name or node:port"):
        TensorRef.parse(text)


def test_spellings():
    assert str(TensorRef("a")) == "a:0"
    assert TensorRef("a").as_input() == "a"
    assert TensorRef("a", 2).as_input() == "a:2"
    assert TensorRef.parse(TensorRef("s", 1).as_input()) == TensorRef("s", 1)


def test_split_node_inputs_separates_data_from_control():
    assert split_node_inputs(["a", "b:1", "^c", "d:0", "^e"]) == (
        (TensorRef("a"), TensorRef("b", 1), TensorRef("d", 0)), ("c", "e"))
    assert split_node_inputs([]) == ((), ())
    assert split_node_inputs(["x"]) == ((TensorRef("x"),), ())
