"""Real models from ../shared/corpus, each cut or frozen and checked against the original."""
from __future__ import annotations

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon import errors, surgery
from graphsurgeon.exporters.graphdef import write_graph_def
from tests.tfrun import run_checkpoint, run_pb, run_seeded_with_init, variable_initializers
from tests.tiny import extract


def _write(model, path):
    write_graph_def(model, path)
    return path


def test_tf2onnx_regression_ckpt(corpus, tmp_path):
    model = extract(gs.load(corpus / "tf2onnx_regression_ckpt" / "model.meta"), ["X"], ["pred"])
    (out,) = run_pb(_write(model, tmp_path / "r.pb"), {"X": np.float32(5)}, ["pred:0"])
    assert out == pytest.approx(2.1193342, abs=1e-6)
    assert sorted(n.op for n in model.graph) == ["Add", "Const", "Const", "Identity", "Mul", "Placeholder"]


def test_session_bundle_v1_checkpoint_and_unimportable_meta(corpus, tmp_path):
    meta = corpus / "serving_session_bundle_half_plus_two" / "00000123" / "export.meta"
    model = extract(gs.load(meta), ["x"], ["y"])
    assert not any(n.op in ("ParseExample", "Variable") for n in model.graph)
    x = np.array([[1], [2], [5]], np.float32)
    (out,) = run_pb(_write(model, tmp_path / "hp2.pb"), {"x": x}, ["y:0"])
    np.testing.assert_allclose(out.ravel(), [2.5, 3.0, 4.5])


def test_ae0_split_at_bottleneck(corpus, tmp_path):
    source = corpus / "tf2onnx_ae0" / "frozen.pb"
    encoder = _write(extract(gs.load(source), ["X"], ["encode/dense_1/Sigmoid"]), tmp_path / "enc.pb")
    decoder = _write(extract(gs.load(source), ["encode/dense_1/Sigmoid"], ["output"]), tmp_path / "dec.pb")
    x = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    (code,) = run_pb(encoder, {"X": x}, ["encode/dense_1/Sigmoid:0"])
    assert code.shape == (4, 128)
    (roundtrip,) = run_pb(decoder, {"encode/dense_1/Sigmoid": code}, ["output:0"])
    (original,) = run_pb(source, {"X": x}, ["output:0"])
    np.testing.assert_allclose(roundtrip, original, atol=1e-6)
    assert "X" not in gs.load(decoder).graph


def test_cond_value_survives_cut_and_freeze(corpus, tmp_path):
    meta = corpus / "tfnet_meta_cond_test" / "cond_test.meta"
    frozen = _write(extract(gs.load(meta), [], ["cond/Merge"]), tmp_path / "frozen.pb")
    assert run_pb(frozen, {}, ["cond/Merge:0"])[0] == 34
    cut = _write(extract(gs.load(meta), ["Less"], ["cond/Merge"]), tmp_path / "cut.pb")
    assert run_pb(cut, {"Less": True}, ["cond/Merge:0"])[0] == 34
    assert run_pb(cut, {"Less": False}, ["cond/Merge:0"])[0] == run_checkpoint(meta, None, {"Less": False}, ["cond/Merge:0"])[0]


def test_lstm_crf_ner_freeze_with_initializers(corpus, tmp_path):
    meta = corpus / "tfnet_meta_lstm_crf_ner" / "lstm_crf_ner.meta"
    source = gs.load(meta)
    with pytest.raises(errors.FreezeError, match="has no value.*--init-from-initializers"):
        extract(source, [], ["proj/Reshape_1"])
    frozen = extract(source, [], ["proj/Reshape_1"], init_from_initializers=True)
    ops = [n.op for n in frozen.graph]
    assert ops.count("LoopCond") == 4 and ops.count("TensorArrayV3") == 6
    assert not any(n.op.startswith(("Variable", "Assign")) or "labels" == n.name for n in frozen.graph)
    rng = np.random.default_rng(0)
    feeds = {"word_ids": rng.integers(0, 20, (2, 7)).astype(np.int32), "sequence_lengths": np.array([7, 5], np.int32),
             "char_ids": rng.integers(0, 10, (2, 7, 6)).astype(np.int32),
             "word_lengths": np.full((2, 7), 6, np.int32), "dropout": np.float32(1.0)}
    (out,) = run_pb(_write(frozen, tmp_path / "ner.pb"), feeds, ["proj/Reshape_1:0"])
    assert out.shape == (2, 7, 9)
    (expected,) = run_seeded_with_init(_meta_graph_def(meta), variable_initializers(meta), feeds, ["proj/Reshape_1:0"])
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_lstm_crf_ner_refuses_cut_at_while_exit(corpus):
    source = gs.load(corpus / "tfnet_meta_lstm_crf_ner" / "lstm_crf_ner.meta")
    exit_node = "bi-lstm/bidirectional_rnn/fw/fw/while/Exit_3"
    with pytest.raises(errors.CutError, match="inside while loop frame"):
        surgery.cut(source, ["word_ids"], [exit_node])
    with pytest.raises(errors.CutError, match="inside while loop frame"):
        surgery.cut(source, [exit_node], ["proj/Reshape_1"])


def test_rust_regression_legacy_variable_op(corpus, tmp_path):
    source_path = corpus / "rust_regression_graphdef" / "model.pb"
    source = gs.load(source_path)
    assert {n.op for n in source.graph if n.name in ("w", "b")} == {"Variable"}
    with pytest.raises(errors.FreezeError, match="variable 'w' has no value"):
        extract(source, ["x"], ["add"])
    frozen = extract(source, ["x"], ["add"], init_from_initializers=True)
    assert sorted(n.op for n in frozen.graph) == ["Add", "Const", "Const", "Mul", "Placeholder"]
    (out,) = run_pb(_write(frozen, tmp_path / "r.pb"), {"x": np.float32(3)}, ["add:0"])
    graph_def = _graph_def(source_path)
    (expected,) = run_seeded_with_init(graph_def, "init", {"x": np.float32(3)}, ["add:0"])
    assert out == pytest.approx(expected)


def test_lstm_keep_prob_bound_then_cut(corpus, tmp_path):
    source = corpus / "tf2onnx_lstm" / "frozen.pb"
    model = extract(gs.load(source), ["X"], ["output"], bindings={"keep_prob": 1.0})
    assert not any(n.op == "Placeholder" and n.name == "keep_prob" for n in model.graph)
    x = np.random.default_rng(1).random((2, 784), dtype=np.float32)
    (out,) = run_pb(_write(model, tmp_path / "lstm.pb"), {"X": x}, ["output:0"])
    (expected,) = run_pb(source, {"X": x, "keep_prob": np.float32(1.0)}, ["output:0"])
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_kmeans_refswitch_is_rewritten(corpus, tmp_path):
    meta = corpus / "tfnet_meta_kmeans" / "kmeans.meta"
    source = gs.load(meta)
    assert any(n.op == "RefSwitch" for n in source.graph)
    frozen = extract(source, [], ["cond/Merge"], init_from_initializers=True)
    assert not any(n.op.startswith("Ref") or n.op.startswith("Variable") for n in frozen.graph)
    assert "Placeholder_1" not in frozen.graph  # the labels are not needed
    x = np.random.default_rng(2).random((5, 784), dtype=np.float32)
    (out,) = run_pb(_write(frozen, tmp_path / "km.pb"), {"Placeholder": x}, ["cond/Merge:0"])
    (expected,) = run_seeded_with_init(_meta_graph_def(meta), variable_initializers(meta), {"Placeholder": x}, ["cond/Merge:0"])
    assert out == expected


def _meta_graph_def(path):
    import tensorflow as tf

    meta = tf.compat.v1.MetaGraphDef()
    meta.ParseFromString(path.read_bytes())
    return meta.graph_def


def _graph_def(path):
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(path.read_bytes())
    return graph_def
