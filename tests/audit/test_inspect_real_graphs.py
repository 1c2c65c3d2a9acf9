"""inspect on graphs as their authors left them: training checkpoints, TF2 SavedModels, Keras files."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import graphsurgeon as gs
from graphsurgeon.audit.summary import summarize
from graphsurgeon.exporters.bundle_writer import BundleWriter
from tests.graphs import node

LAYERS = 1000  # 10 nodes a layer: a 10,000-node graph
STRING = tf.string.as_datatype_enum
FLOAT = tf.float32.as_datatype_enum


def _strings(graph_def, name: str, values: list[str]):
    nd = node(graph_def, name, "Const", dtype=tf.string)
    nd.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(values, tf.string))
    return nd


def _layer(graph_def, i: int) -> tuple[str, str, str]:
    """A variable with everything a TF1 trainer adds around it; returns (variable, its output, its summary).

        x ─ MatMul(w/read) ─ Relu ─┬─> logits (AddN)
        w ── Assign(zeros)          └─> HistogramSummary
          ├─ IsVariableInitialized ─> report_uninitialized_variables
          └─ ApplyGradientDescent(gradients/...)
    """
    scope = f"tower_{i}"
    w = f"{scope}/w"
    node(graph_def, w, "VariableV2", dtype=tf.float32, shape=[4, 4])
    node(graph_def, f"{w}/Initializer/zeros", "Const", dtype=tf.float32, value=np.zeros((4, 4), np.float32))
    node(graph_def, f"{w}/Assign", "Assign", [w, f"{w}/Initializer/zeros"], T=tf.float32)
    node(graph_def, f"{w}/read", "Identity", [w], T=tf.float32)
    node(graph_def, f"{w}/IsVariableInitialized", "IsVariableInitialized", [w], dtype=tf.float32)
    node(graph_def, f"{scope}/MatMul", "MatMul", ["x", f"{w}/read"], T=tf.float32)
    node(graph_def, f"{scope}/Relu", "Relu", [f"{scope}/MatMul"], T=tf.float32)
    _strings(graph_def, f"{scope}/activations/tag", [f"{scope}/activations"])
    node(graph_def, f"{scope}/activations", "HistogramSummary", [f"{scope}/activations/tag", f"{scope}/Relu"],
         T=tf.float32)
    node(graph_def, f"gradients/{scope}/MatMul_grad/MatMul_1", "MatMul", ["x", f"{scope}/Relu"], T=tf.float32)
    node(graph_def, f"GradientDescent/update_{w}/ApplyGradientDescent", "ApplyGradientDescent",
         [w, "GradientDescent/learning_rate", f"gradients/{scope}/MatMul_grad/MatMul_1"], T=tf.float32)
    return w, f"{scope}/Relu", f"{scope}/activations"


def wide_training_checkpoint(directory) -> str:
    """A TF1 training MetaGraph + checkpoint: 1000 towers, a saver, init ops, init checks, summaries, an assert."""
    graph_def = tf.compat.v1.GraphDef()
    node(graph_def, "x", "Placeholder", dtype=tf.float32, shape=[None, 4])
    node(graph_def, "GradientDescent/learning_rate", "Const", dtype=tf.float32, value=np.float32(0.1))
    layers = [_layer(graph_def, i) for i in range(LAYERS)]
    variables = [w for w, _, _ in layers]
    node(graph_def, "logits", "AddN", [out for _, out, _ in layers], T=tf.float32, N=LAYERS)
    node(graph_def, "probabilities", "Softmax", ["logits"], T=tf.float32)
    node(graph_def, "assert_positive/y", "Const", dtype=tf.float32, value=np.float32(0))
    node(graph_def, "assert_positive/GreaterEqual", "GreaterEqual", ["logits", "assert_positive/y"], T=tf.float32)
    node(graph_def, "assert_positive/All/reduction_indices", "Const", dtype=tf.int32, value=np.int32(0))
    node(graph_def, "assert_positive/All", "All", ["assert_positive/GreaterEqual", "assert_positive/All/reduction_indices"])
    assert_node = node(graph_def, "assert_positive/Assert", "Assert", ["assert_positive/All", "logits"], summarize=3)
    assert_node.attr["T"].list.type.append(FLOAT)
    train = node(graph_def, "GradientDescent", "NoOp")
    train.input.extend(f"^GradientDescent/update_{w}/ApplyGradientDescent" for w in variables)
    init = node(graph_def, "init", "NoOp")
    init.input.extend(f"^{w}/Assign" for w in variables)
    node(graph_def, "report_uninitialized_variables/Stack", "Pack",
         [f"{w}/IsVariableInitialized" for w in variables], T=tf.bool, N=LAYERS, axis=0)
    node(graph_def, "report_uninitialized_variables/LogicalNot", "LogicalNot", ["report_uninitialized_variables/Stack"])
    node(graph_def, "Merge/MergeSummary", "MergeSummary", [s for _, _, s in layers], N=LAYERS)
    _saver(graph_def, variables)
    meta = tf.compat.v1.MetaGraphDef()
    meta.graph_def.CopyFrom(graph_def)
    meta.saver_def.filename_tensor_name = "save/Const:0"
    meta.saver_def.save_tensor_name = "save/control_dependency:0"
    meta.saver_def.restore_op_name = "save/restore_all"
    meta.collection_def["train_op"].node_list.value.append("GradientDescent")
    meta.collection_def["summaries"].node_list.value.extend(s for _, _, s in layers)
    prefix = str(directory / "model.ckpt-100")
    (directory / "model.ckpt-100.meta").write_bytes(meta.SerializeToString())
    writer = BundleWriter(prefix)
    rng = np.random.default_rng(0)
    for w in variables:
        writer.add(w, FLOAT, (4, 4), [memoryview(rng.random((4, 4), dtype=np.float32).tobytes())])
    writer.finish()
    return prefix


def _saver(graph_def, variables: list[str]) -> None:
    _strings(graph_def, "save/Const", ["model"])
    _strings(graph_def, "save/tensor_names", variables)
    _strings(graph_def, "save/shape_and_slices", [""] * len(variables))
    save = node(graph_def, "save/SaveV2", "SaveV2", ["save/Const", "save/tensor_names", "save/shape_and_slices", *variables])
    save.attr["dtypes"].list.type.extend([FLOAT] * len(variables))
    node(graph_def, "save/control_dependency", "Identity", ["save/Const", "^save/SaveV2"], T=tf.string)
    restore = node(graph_def, "save/RestoreV2", "RestoreV2", ["save/Const", "save/tensor_names", "save/shape_and_slices"])
    restore.attr["dtypes"].list.type.extend([FLOAT] * len(variables))
    for i, w in enumerate(variables):
        node(graph_def, f"save/Assign_{i}", "Assign", [w, f"save/RestoreV2:{i}"], T=tf.float32)
    restore_all = node(graph_def, "save/restore_all", "NoOp")
    restore_all.input.extend(f"^save/Assign_{i}" for i in range(len(variables)))


@pytest.fixture(scope="module")
def training_checkpoint(tmp_path_factory) -> str:
    return wide_training_checkpoint(tmp_path_factory.mktemp("wide"))


def test_candidates_of_a_training_checkpoint_are_its_feeds_and_results(training_checkpoint):
    summary = summarize(gs.load(training_checkpoint, trace=False))
    assert summary.nodes > 10_000
    assert [d.name for d in summary.inputs] == ["x"]
    assert summary.outputs == ["probabilities"]


def test_inspect_of_a_10000_node_checkpoint_fits_a_screen(cli, training_checkpoint):
    result = cli("inspect", training_checkpoint)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) <= 60, result.out
    assert "... and 990 more (--all)" in result.out  # the variables, largest first
    everything = cli("inspect", training_checkpoint, "--all")
    assert len(everything.out.splitlines()) > 1000
    assert "tower_999/w" in everything.out


def test_names_are_never_cut_in_tables(cli, monkeypatch, training_checkpoint):
    monkeypatch.setenv("COLUMNS", "30")  # narrower than 'IsVariableInitialized' plus the other columns
    result = cli("inspect", training_checkpoint, "--all")
    assert "…" not in result.out
    # Wrapped, not cut: the first column's pieces, joined, give every name whole.
    first_column = "".join(line.split("│")[1].strip() for line in result.out.splitlines() if line.startswith("│"))
    assert "IsVariableInitialized" in first_column and "tower_999/w" in first_column


def test_tf2_saved_model_variables_show_their_bytes(corpus):
    summary = summarize(gs.load(corpus / "serving_half_plus_two_tf2_cpu" / "00000123", trace=False))
    sizes = {v.name: v.nbytes for v in summary.variables}
    assert sizes["a"] == sizes["b"] == sizes["c"] == 4
    assert "saver_filename" not in [d.name for d in summary.inputs]
    assert "asset_path_initializer" not in [d.name for d in summary.inputs]
    assert not any("IsInitialized" in name or "ReadVariableOp" in name for name in summary.outputs)


def test_estimator_saved_model_lists_signature_outputs_not_checks(corpus):
    summary = summarize(gs.load(corpus / "guesslang_2_2_1_savedmodel" / "model", trace=False))
    assert [d.name for d in summary.inputs] == ["Placeholder"]  # not the saver's filename feeds
    assert "add" in summary.outputs  # the logits of the predict signature
    noise = ("IsInitialized", "zero_fraction", "assert", "map/while", "concat_dim", "TensorArray")
    assert not [name for name in summary.outputs if any(part in name for part in noise)]


def test_keras_h5_lists_the_layers_export_uses(generated, cli):
    summary = summarize(gs.load(generated / "keras" / "planet.h5", trace=False))
    assert [(d.name, d.shape) for d in summary.inputs] == [("input_image", [-1, 128, 128, 3])]
    assert summary.outputs == ["weather", "ground"]
    result = cli("inspect", generated / "keras" / "planet.h5")
    assert "input_image" in result.out and "Candidate outputs: weather, ground" in result.out


def test_keras_audit_does_not_flag_optimizer_weights(generated, cli):
    result = cli("audit", generated / "keras" / "planet.h5")
    assert result.code == 0, result.err
    assert "training nodes" not in result.out
    assert "is_training" not in result.out


def test_resource_captures_are_dropped_and_function_copies_grouped(tmp_path):
    """A hub-style graph: a real input, then an inlined function with its own feeds and resource captures.

        images ─ Relu ─> out
        StatefulPartitionedCall/{x_0..x_4} (float), StatefulPartitionedCall/handle_{0..9} (resource)
    """
    graph_def = tf.compat.v1.GraphDef()
    node(graph_def, "images", "Placeholder", dtype=tf.float32, shape=[None, 3])
    node(graph_def, "out", "Relu", ["images"], T=tf.float32)
    for i in range(5):
        node(graph_def, f"StatefulPartitionedCall/x_{i}", "Placeholder", dtype=tf.float32, shape=[None])
    for i in range(10):
        node(graph_def, f"StatefulPartitionedCall/handle_{i}", "Placeholder", dtype=tf.resource, shape=[])
        node(graph_def, f"captured_{i}", "Placeholder", dtype=tf.resource, shape=[])
    (tmp_path / "hub.pb").write_bytes(graph_def.SerializeToString())
    summary = summarize(gs.load(tmp_path / "hub.pb"))
    assert [d.name for d in summary.inputs] == ["images"]
    assert [(c.scope, c.count) for c in summary.function_copies] == [("StatefulPartitionedCall", 5)]
    assert summary.outputs == ["out"]


def test_audit_tables_wrap_names_instead_of_cutting_them(generated, cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    result = cli("audit", generated / "encoder_decoder")
    assert result.code == 0, result.err
    table = result.out[result.out.index("largest"):]
    assert "…" not in table.split("risk")[0]


def test_a_training_checkpoint_offers_its_model_outputs_before_its_loss(generated, cli):
    """encoder/out and decoder/out feed the loss, so neither is a sink; the sinks are the loss and an image
    encoder. The named ends of the model's scopes come first, the loss and EncodePng after them."""
    summary = summarize(gs.load(generated / "encoder_decoder"))
    assert summary.outputs == ["decoder/out", "encoder/out"]
    assert summary.side_outputs == ["loss", "EncodePng"]
    out = cli("inspect", generated / "encoder_decoder").out
    assert out.index("encoder/out") < out.index("loss") < out.index("EncodePng")
    assert "also losses, metrics and summary images: loss, EncodePng" in out
