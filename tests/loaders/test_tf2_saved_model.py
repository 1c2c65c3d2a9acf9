"""TF2 SavedModels: a signature's function graph flattened, re-exported, verified against the original."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import graphsurgeon as gs
from graphsurgeon import errors, surgery
from graphsurgeon.verify import verify
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from tests.tiny import extract


def _export(cli, source, out, *args):
    result = cli("export", source, *args, "-o", out)
    assert result.code == 0, result.err
    return out / "1"


def _examples(**values: float) -> np.ndarray:
    features = {k: tf.train.Feature(float_list=tf.train.FloatList(value=[v])) for k, v in values.items()}
    return np.array([tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()], object)


def test_half_plus_two_tf2_all_six_serving_signatures_numbers_and_asset(corpus, tmp_path, cli):
    source = corpus / "serving_half_plus_two_tf2_cpu" / "00000123"
    path = _export(cli, source, tmp_path / "hp2")
    exported = gs.load(path)
    assert sorted(k for k in exported.signatures if not k.startswith("__")) == [
        "classify_x2_to_y3", "classify_x_to_y", "regress_x2_to_y3", "regress_x_to_y", "regress_x_to_y2",
        "serving_default"]
    y = exported.signatures["serving_default"].outputs["y"].name
    [[value]] = run_in_cpp_loader(path, ["serve"], [Run({"x:0": np.array([1, 2, 5], np.float32)}, [y])])
    np.testing.assert_allclose(value, [2.5, 3.0, 4.5])
    assert (path / "assets" / "foo.txt").read_bytes() == (source / "assets" / "foo.txt").read_bytes()
    inputs = {f"{key}/inputs": _examples(x=3.0, x2=4.0) for key in ("classify_x_to_y", "regress_x_to_y",
                                                                       "regress_x_to_y2")}
    report = verify(path, feeds=inputs, against=source)
    assert report.ok and all(c.ran and c.outputs for c in report.signatures), report
    assert all(o.max_abs_error == 0.0 for c in report.signatures for o in c.outputs)
    ops = {n.op for n in exported.graph}
    assert not ops & {"VarHandleOp", "ReadVariableOp", "StatefulPartitionedCall"}


def test_three_serving_signatures_export_together_sharing_their_weight(generated, tmp_path, cli):
    source = generated / "tf2" / "multi_signature"
    result = cli("export", source, "-o", tmp_path / "scorer")
    assert result.code == 0, result.err
    assert "'train'" in result.err and "updates variables (AssignAddVariableOp" in result.err
    path = tmp_path / "scorer" / "1"
    exported = gs.load(path)
    assert sorted(k for k in exported.signatures if not k.startswith("__")) == ["embed", "predict_proba",
                                                                                 "serving_default"]
    assert {s.inputs["features"].name for k, s in exported.signatures.items() if not k.startswith("__")} == {
        "features:0"}  # one placeholder, as all three take the same input
    # embedding (128x512 float32, 256 KiB) is read by all three signatures; w (512x4) by two.
    stored = sum(f.stat().st_size for f in (path / "variables").glob("variables.data-*"))
    assert 128 * 512 * 4 <= stored < 2 * 128 * 512 * 4
    report = verify(path, against=source)
    assert report.ok and [c.key for c in report.signatures] == ["embed", "predict_proba", "serving_default"]
    assert all(c.ran and o.max_abs_error is not None and o.ok for c in report.signatures for o in c.outputs)


def test_signature_subset_and_state_updating_signature_asked_for_by_name(generated, tmp_path, cli):
    source = generated / "tf2" / "multi_signature"
    path = _export(cli, source, tmp_path / "subset", "--signature", "embed", "predict_proba")
    kept = {k for k in gs.load(path).signatures if not k.startswith("__")}
    assert {"embed", "predict_proba"} <= kept <= {"embed", "predict_proba", "serving_default"}  # default: a copy
    refused = cli("export", source, "--signature", "serving_default", "train", "-o", tmp_path / "train")
    assert refused.code == 1 and "signature 'train'" in refused.err and "updates variables" in refused.err
    assert not (tmp_path / "train").exists()
    unknown = cli("export", source, "--signature", "predict_probs", "-o", tmp_path / "typo")
    assert unknown.code == 1 and "did you mean 'predict_proba'" in unknown.err


def test_keras_lstm_stateless_while_survives_freezing(corpus, tmp_path, cli):
    source = corpus / "tfnet_keras_lstm_sequential"
    path = _export(cli, source, tmp_path / "lstm")
    exported = gs.load(path)
    assert [n.op for n in exported.graph].count("StatelessWhile") == 1 and len(exported.graph.library.function) == 2
    x = np.random.default_rng(0).random((3, 5, 3), dtype=np.float32)
    assert verify(path, feeds={"input_1": x}, against=source).ok


def test_leak_testmodel_cut_to_one_of_three_outputs(corpus, tmp_path, cli):
    source = corpus / "tfnet_leak_testmodel"
    path = _export(cli, source, tmp_path / "leak", "--signature", "inference", "--outputs", "Identity_1",
                   "--keys", "Identity_1=output_1")
    sig = gs.load(path).signatures["serving_default"]
    assert list(sig.outputs) == ["output_1"]
    assert [d.size for d in sig.inputs["input"].tensor_shape.dim] == [-1, -1, 96]
    x = np.random.default_rng(1).random((1, 10, 96), dtype=np.float32)
    [[mine]] = run_in_cpp_loader(path, ["serve"], [Run({"input:0": x}, ["Identity_1:0"])])
    original = tf.saved_model.load(str(source)).signatures["inference"](input=tf.constant(x))["output_1"].numpy()
    assert mine.shape == (1, 192)
    np.testing.assert_allclose(mine, original, atol=1e-5)


def test_tfx_keras_serving_with_real_examples(corpus, tmp_path, cli):
    source = corpus / "tfx_keras_serving"
    path = _export(cli, source, tmp_path / "penguin")
    features = {k: tf.train.Feature(float_list=tf.train.FloatList(value=[v])) for k, v in
                {"body_mass_g": 0.4, "culmen_depth_mm": 0.6, "culmen_length_mm": 0.3, "flipper_length_mm": 0.5}.items()}
    example = tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()
    assert verify(path, feeds={"examples": np.array([example], dtype=object)}, against=source).ok


def test_state_updating_signature_is_refused_and_read_only_ones_freeze(corpus, tmp_path, cli):
    source = corpus / "rust_regression_savedmodel_tf2"
    refused = cli("export", source, "--signature", "train", "-o", tmp_path / "train")
    assert refused.code == 1 and "updates variables" in refused.err and "AssignAddVariableOp" in refused.err
    assert not (tmp_path / "train").exists()
    path = _export(cli, source, tmp_path / "read_only")  # every serving signature but train, together
    assert {"b", "w"} <= set(gs.load(path).signatures) and "train" not in gs.load(path).signatures
    report = verify(path, against=source)
    assert report.ok and {c.key for c in report.signatures if c.ran} >= {"b", "w"}


def test_stateful_tf1_signatures_refused_read_only_one_freezes(corpus):
    model = gs.load(corpus / "serving_counter" / "00000123")
    for output in ("incr_counter_op/AssignAdd", "incr_counter_by_op/AssignAdd", "reset_counter_op/Assign"):
        with pytest.raises(errors.FreezeError, match="updates a variable"):
            surgery.freeze(model, [output])
    frozen = extract(model, [], ["counter"])
    assert frozen.graph["counter"].op == "Const"


def test_sparse_coo_signature_inputs_are_kept(corpus, tmp_path, cli):
    source = corpus / "tfx_transform_fn"
    result = cli("export", source, "--tags", "transform", "--export-tags", "transform", "-o", tmp_path / "tft")
    assert result.code == 0, result.err
    exported = gs.load(tmp_path / "tft" / "1", tags=["transform"], trace=False)
    original = gs.load(source, tags=["transform"], trace=False)
    sig = exported.signatures["serving_default"]
    assert sig.inputs["company"].WhichOneof("encoding") == "coo_sparse"
    assert sig == original.signatures["transform_signature"] or len(sig.inputs) == 18
    assert sorted(p.name for p in (tmp_path / "tft" / "1" / "assets").iterdir())  # vocabularies shipped


def test_verify_runs_an_original_tf2_saved_model_as_it_is(corpus):
    report = verify(corpus / "serving_half_plus_two_tf2_cpu" / "00000123", signature="serving_default")
    assert any(c.ran for c in report.signatures)
    assert all(o.ok for c in report.signatures for o in c.outputs)


WORDS = np.array([[b"the", b"cat", b"dog"], [b"mat", b"", b"on"], [b"zebra", b"sat", b"THE"]])  # dog, zebra: OOV


def test_keras3_model_export_lookup_table_is_rebuilt_and_serves(generated, tmp_path, cli):
    import keras

    source = generated / "keras3" / "lookup_export"  # Keras 3 model.export: the StringLookup's table is captured
    path = _export(cli, source, tmp_path / "lookup")
    graph = gs.load(path, trace=False).graph
    assert [n.op for n in graph if n.op in {"HashTableV2", "LookupTableImportV2"}] == ["HashTableV2",
                                                                                       "LookupTableImportV2"]
    assert not [n for n in graph.of_ops({"Placeholder"}) if n.attrs["dtype"].type == tf.resource.as_datatype_enum]
    report = verify(path, feeds={"words": WORDS}, against=source)
    assert report.ok and all(c.ran for c in report.signatures), report
    [[served]] = run_in_cpp_loader(path, ["serve"], [Run({"words:0": WORDS}, ["Identity_1:0"])])
    keras_model = keras.saving.load_model(generated / "keras3" / "lookup.keras", compile=False)
    np.testing.assert_allclose(served, keras_model.predict(tf.constant(WORDS), verbose=0), atol=1e-5)


def test_captured_tables_from_files_and_tensors_serve_and_a_mutable_one_is_refused(generated, tmp_path, cli):
    source = generated / "tf2" / "tables"
    result = cli("export", source, "-o", tmp_path / "tables")
    assert result.code == 0, result.err
    assert "'seen_counts' of" in result.err and "placeholder" in result.err and "MutableHashTableV2" in result.err
    path = tmp_path / "tables" / "1"
    assert (path / "assets" / "colors.txt").read_text().split() == ["red", "green", "blue", "cyan"]
    feeds = {"words": np.array([b"blue", b"pink", b"red"]), "ids": np.array([42, 5, 3], np.int64)}
    report = verify(path, feeds=feeds, against=source)
    assert report.ok and sorted(c.key for c in report.signatures if c.ran) == ["id_scores", "serving_default",
                                                                                "word_ids"], report
    [[ids]] = run_in_cpp_loader(path, ["serve"], [Run({"words:0": feeds["words"]},
                                                      [gs.load(path).signatures["word_ids"].outputs["ids"].name])])
    assert ids.tolist() == [2, -1, 0]  # line numbers in colors.txt; pink is out of vocabulary
    refused = cli("export", source, "--signature", "seen_counts", "-o", tmp_path / "seen")
    assert refused.code == 1 and "signature 'seen_counts'" in refused.err and "source file (.keras)" in refused.err
    assert not (tmp_path / "seen").exists()
