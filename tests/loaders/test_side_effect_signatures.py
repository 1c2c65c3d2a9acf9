"""A TF2 signature with side effects is never served: left out with a warning naming the op, refused by name.

fixtures/on_device_training.py: infer (x -> output, logits), train (SGD step), save (raw Save to the
`checkpoint_path` a request gives), restore (Restore from it, assigned) and peek (Restore, returned).
"""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import graphsurgeon as gs
from graphsurgeon.ir.ops import side_effect
from graphsurgeon.tf.protos import pb
from graphsurgeon.tf.tf2_trace import side_effects
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader


def test_save_and_peek_are_left_out_naming_their_ops_and_infer_is_served(generated, cli, tmp_path):
    source = generated / "on_device_training"
    result = cli("export", source, "-o", tmp_path / "served")
    assert result.code == 0, result.err
    assert "signature 'save'" in result.err and "writes files on the server (Save)" in result.err
    assert "signature 'peek'" in result.err and "reads a checkpoint from a path given at run time (Restore)" \
        in result.err
    path = tmp_path / "served" / "1"
    exported = gs.load(path)
    assert sorted(k for k in exported.signatures if not k.startswith("__")) == ["infer", "serving_default"]
    assert not {n.op for n in exported.graph} & {"Save", "SaveV2", "Restore", "RestoreV2"}
    x = np.random.default_rng(19).standard_normal((3, 16)).astype(np.float32)
    infer = exported.signatures["infer"]
    fetches = [infer.outputs["logits"].name, infer.outputs["output"].name]
    (logits, output), = run_in_cpp_loader(path, ["serve"], [Run({infer.inputs["x"].name: x}, fetches)])
    original = tf.saved_model.load(str(source)).signatures["infer"](x=tf.constant(x))
    np.testing.assert_allclose(logits, original["logits"].numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(output, original["output"].numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("key, why", [("save", "writes files on the server (Save)"),
                                      ("peek", "reads a checkpoint from a path given at run time (Restore)")])
def test_a_signature_with_side_effects_asked_for_by_name_is_an_error(generated, cli, tmp_path, key, why):
    refused = cli("export", generated / "on_device_training", "--signature", key, "-o", tmp_path / key)
    assert refused.code == 1
    assert f"signature {key!r}" in refused.err and why in refused.err and "--signature" in refused.err
    assert len(refused.err.strip().splitlines()) == 1 and "Traceback" not in refused.err
    assert not (tmp_path / key).exists()


def _function_graph(*nodes: tuple[str, str, list[str]]):
    graph_def = pb.graph_pb2.GraphDef()
    function = graph_def.library.function.add()
    for name, op, inputs in nodes:
        function.node_def.add(name=name, op=op, input=inputs)
    return graph_def


def test_a_restore_counts_only_when_its_path_is_not_a_constant():
    fed = _function_graph(("restore", "RestoreV2", ["checkpoint_path", "names", "slices"]))
    fixed = _function_graph(("path", "Const", []), ("restore", "RestoreV2", ["path:output:0", "names", "slices"]))
    assert side_effects(fed, side_effect) == ["reads a checkpoint from a path given at run time (RestoreV2)"]
    assert side_effects(fixed, side_effect) == []


def test_queue_and_stack_pushes_and_file_ops_are_side_effects():
    graph = _function_graph(("push", "StackPushV2", ["stack", "x"]), ("enqueue", "QueueEnqueueV2", ["q", "x"]),
                            ("write", "WriteFile", ["path", "x"]), ("list", "MatchingFiles", ["pattern"]),
                            ("add", "AddV2", ["x", "x"]))
    assert side_effects(graph, side_effect) == [
        "pushes onto a queue, stack or table (QueueEnqueueV2)", "pushes onto a queue, stack or table (StackPushV2)",
        "reads files on the server (MatchingFiles)", "writes files on the server (WriteFile)"]
