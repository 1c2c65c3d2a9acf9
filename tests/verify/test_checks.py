"""The verdict on one signature from its runs: stochastic outputs, a second batch that fails, a recipe that samples.

Runs here are arrays as the C++ child returns them; the graph is the export's, for naming nodes:

    x -> pin (Reshape, shape = Const [6, 2, 2]) -> y        drop (RandomUniform) <- rate (scalar Placeholder)
"""
from __future__ import annotations

import numpy as np

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.names import TensorRef
from graphsurgeon.tf.protos import pb, shape_proto
from graphsurgeon.verify.checks import Runs, Verdict, judge, random_sources

SCALAR = pb.attr_value_pb2.AttrValue(shape=shape_proto([]))
GRAPH = Graph([
    Node("x", "Placeholder"),
    const_node("shape", np.array([6, 2, 2], np.int32), dt.enum_of("int32")),
    Node("pin", "Reshape", (TensorRef("x"), TensorRef("shape"))),
    Node("rate", "Placeholder", attrs={"shape": SCALAR}),
    Node("drop", "RandomUniform", (TensorRef("rate"),), attrs={"seed": pb.attr_value_pb2.AttrValue(i=0),
                                                              "seed2": pb.attr_value_pb2.AttrValue(i=0)}),
])
Y = np.arange(6, dtype=np.float32).reshape(2, 3)


def _verdict(**changes) -> Verdict:
    return Verdict("serving_default", ["y"], [2, 3], [], GRAPH, **changes)


def test_two_runs_that_differ_name_the_random_op_and_its_switch():
    runs = Runs([[Y], [Y + 1], [Y]], [None, None, None])
    check = judge(_verdict(), runs, None)
    assert not check.ok
    assert check.note == ("the export is stochastic: two runs on the same inputs differ; random ops RandomUniform "
                          "'drop'; Placeholder 'rate' feeds them: export with --set rate=VALUE, the value that turns "
                          "them off (a keep probability of 1.0, a rate of 0.0)")


def test_a_recipe_that_samples_on_purpose_is_not_a_failure_and_is_not_compared():
    runs = Runs([[Y], [Y + 1], [Y]], [None, None, None])
    source = Runs([[Y + 5], [Y], [Y]], [None, None, None])
    check = judge(_verdict(samples=True), runs, source)
    assert check.ok and check.outputs[0].max_abs_error is None
    assert check.notes[0].startswith("not compared with the source: the recipe says the model samples on purpose")


def test_a_second_batch_that_fails_at_a_node_names_the_constant_that_pins_it():
    error = "Input to reshape is a tensor with 9 values, but the requested shape has 24\n\t [[{{node pin}}]]"
    runs = Runs([[Y], [Y], None], [None, None, error])
    check = judge(_verdict(), runs, None)
    assert not check.ok and check.note == (
        "batch 3 fails while batch 2 runs, although the signature accepts any batch, so Serving requests of other "
        "batches fail too: Input to reshape is a tensor with 9 values, but the requested shape has 24 (at Reshape "
        "'pin', whose constant holds [6, 2, 2]); the graph pins the batch there (export with --static-batch so the "
        "signature says which batch it takes)")


def test_a_main_run_that_fails_at_a_node_is_a_suspect_batch_until_retried():
    error = "Input to reshape is a tensor with 6 values, but the requested shape has 24\n\t [[{{node pin}}]]"
    check = judge(_verdict(), Runs([None, None, None], [error, error, error]), None)
    assert not check.ran and not check.ok and check.batch_pinned
    assert check.error.endswith("(at Reshape 'pin', whose constant holds [6, 2, 2])")


def test_a_keep_probability_added_to_the_draw_is_named_whatever_shape_it_states():
    """tf2onnx's frozen dropout: keep_prob (no stated shape) + (RandomUniform * range + min), floored, times x.
    x is upstream of the draw (its shape), so it is data, not a switch.

        x -> Shape -> draw -> scaled -> kept (+ keep_prob) -> mask (Floor) -> y (Mul x)
    """
    seed = {"seed": pb.attr_value_pb2.AttrValue(i=0), "seed2": pb.attr_value_pb2.AttrValue(i=0)}
    graph = Graph([
        Node("x", "Placeholder", attrs={"shape": pb.attr_value_pb2.AttrValue(shape=shape_proto(None))}),
        Node("keep_prob", "Placeholder", attrs={"shape": pb.attr_value_pb2.AttrValue(shape=shape_proto(None))}),
        Node("size", "Shape", (TensorRef("x"),)),
        Node("draw", "RandomUniform", (TensorRef("size"),), attrs=seed),
        const_node("range", np.float32(1.0), dt.enum_of("float32")),
        Node("scaled", "Mul", (TensorRef("draw"), TensorRef("range"))),
        Node("kept", "Add", (TensorRef("keep_prob"), TensorRef("scaled"))),
        Node("mask", "Floor", (TensorRef("kept"),)),
        Node("y", "Mul", (TensorRef("x"), TensorRef("mask"))),
    ])
    text = random_sources(graph)
    assert "Placeholder 'keep_prob' feeds them: export with --set keep_prob=VALUE" in text
    assert "'x'" not in text
