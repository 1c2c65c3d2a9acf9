"""Static shapes from attrs: a legacy Placeholder's scalar shape attr means an unknown shape, as TF reads it."""
from __future__ import annotations

import pytest

import graphsurgeon as gs
from graphsurgeon.ir.shapes import static_shape
from graphsurgeon.names import TensorRef
from tests import graphs


@pytest.mark.parametrize("producer, expected", [(21, (1, 64, -1, 1)), (22, ())])
def test_a_scalar_shape_attr_of_producer_21_or_older_is_the_shape_recorded_at_creation(tmp_path, producer,
                                                                                        expected):
    """TF 1.x wrote `tf.placeholder(shape=[1, 64, None, 1])` as shape {} and kept the declared shape only
    in _output_shapes (the CTC checkpoint in the corpus); TensorFlow reads {} there as unknown (array_ops.cc)."""
    graph_def = graphs.new()
    graph_def.versions.producer = producer
    node = graphs.placeholder(graph_def, "lines", shape=[])
    node.attr["_output_shapes"].list.shape.add().CopyFrom(graphs.tf.TensorShape([1, 64, None, 1]).as_proto())
    model = gs.load(graphs.save(graph_def, tmp_path / "legacy.pb"))
    assert static_shape(model, TensorRef("lines")) == expected
