"""Keras layers named in --inputs and --outputs: nested, shared, wrapped and multi-output layers, and masks.

Each export is compared with Keras's own ``Model(model.inputs, layer.output)`` (a
call site: that call's output) on the same seeded inputs, run in TensorFlow's C++ loader.
"""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import graphsurgeon as gs
from graphsurgeon.errors import NameNotFoundError
from graphsurgeon.ir.resolve import resolve
from graphsurgeon.names import TensorRef
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader

VOCABULARY = 20  # fixtures/keras_layers_models.py
INPUTS = {  # fixture -> {input: (shape, dtype)}
    "triplet": {name: ((6,), "int32") for name in ("anchor", "positive", "negative")},
    "siamese": {"left": ((5,), "float32"), "right": ((5,), "float32")},
    "sequence": {"tokens": ((7,), "int32")},
    "masked": {"ids": ((6,), "int32")},
}


def _feeds(model: str, seed: int = 0, n: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    feeds = {}
    for name, (shape, dtype) in INPUTS[model].items():
        if dtype == "int32":  # token ids; row i ends in i % 3 zeros, the padding a mask hides
            ids = rng.integers(1, VOCABULARY, (n, *shape)).astype(np.int32)
            feeds[name] = np.where(np.arange(shape[0]) >= shape[0] - np.arange(n)[:, None] % 3, 0, ids)
        else:
            feeds[name] = rng.standard_normal((n, *shape)).astype(np.float32)
    return feeds


def _keras_model(source):
    if source.suffix == ".h5":
        return tf_keras, tf_keras.models.load_model(source, compile=False)
    return keras, keras.saving.load_model(source, compile=False)


def _keras_outputs(source, name: str, feeds: dict) -> list[np.ndarray]:
    """What Keras computes for layer NAME (every call) or NAME@K (call K) of the model in ``source``."""
    k, model = _keras_model(source)
    layer_name, _, call = name.partition("@")
    layer = model.get_layer(layer_name)
    if len(layer._inbound_nodes) == 1 and not call:
        outputs = tf.nest.flatten(layer.output)
    else:
        calls = [int(call)] if call else range(len(layer._inbound_nodes))
        outputs = [t for c in calls for t in tf.nest.flatten(layer._inbound_nodes[c].output_tensors)]
    results = k.Model(model.inputs, outputs).predict({i: feeds[i] for i in INPUTS[source.stem]}, verbose=0)
    return results if isinstance(results, list) else [results]


def _served(path, name: str, count: int, feeds: dict) -> list[np.ndarray]:
    """The export's outputs for layer NAME: keyed by the layer's name (NAME@K: NAME_K, a/b: a_b), numbered after
    the first."""
    sig = gs.load(path).signatures["serving_default"]
    key = name.replace("@", "_").replace("/", "_")
    keys = [key] + [f"{key}_{i}" for i in range(1, count)]
    assert sorted(sig.outputs) == sorted(keys)
    [got] = run_in_cpp_loader(path, ["serve"], [Run({sig.inputs[k].name: feeds[k] for k in sig.inputs},
                                                    [sig.outputs[k].name for k in keys])])
    return got


LAYERS = [("triplet", "model"), ("triplet", "model@1"), ("sequence", "lstm_1"), ("sequence", "bidirectional_2"),
          ("siamese", "functional_4"), ("siamese", "add_20")]
FAST = {("triplet.keras", "model"), ("triplet.keras", "model@1"), ("sequence.keras", "lstm_1"),
        ("sequence.keras", "bidirectional_2"), ("siamese.h5", "functional_4")}  # each class once; the rest: -m slow


@pytest.mark.parametrize(("source", "name"), [
    pytest.param(f"{model}{suffix}", name, marks=() if (f"{model}{suffix}", name) in FAST else pytest.mark.slow)
    for model, name in LAYERS for suffix in (".keras", ".h5")])
def test_a_layer_named_in_outputs_exports_what_keras_computes(generated, cli, tmp_path, source, name):
    model = source.partition(".")[0]
    source = generated / "keras_layers" / source
    result = cli("export", source, "--outputs", name, "-o", tmp_path / "serving")
    assert result.code == 0, result.err
    feeds = _feeds(model)
    expected = _keras_outputs(source, name, feeds)
    for got, want in zip(_served(tmp_path / "serving" / "1", name, len(expected), feeds), expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("suffix", [".keras", pytest.param(".h5", marks=pytest.mark.slow)])
def test_a_nested_layer_is_spelled_by_its_path_where_its_name_is_not_unique(generated, cli, tmp_path, suffix):
    source = generated / "keras_layers" / f"siamese{suffix}"
    result = cli("export", source, "--outputs", "functional_4/dense@1", "-o", tmp_path / "serving")
    assert result.code == 0, result.err
    feeds = _feeds("siamese")
    k, model = _keras_model(source)
    tower = model.get_layer("functional_4")  # call 1 of the tower is on `right`
    want = k.Model(tower.inputs, tower.get_layer("dense").output).predict(feeds["right"], verbose=0)
    [got] = _served(tmp_path / "serving" / "1", "functional_4/dense@1", 1, feeds)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_layers_of_a_traced_model_name_every_call_and_output(generated):
    layers = gs.load(generated / "keras_layers" / "triplet.keras").layers
    assert [len(layers[n].calls) for n in ("anchor", "model", "embedding", "dense", "score")] == [1, 3, 3, 3, 1]
    assert layers["embedding"].parent == "model" and layers["model"].parent is None
    assert layers["model"].calls[1] == (TensorRef("model/call1"),)
    sequence = gs.load(generated / "keras_layers" / "sequence.keras")
    assert [str(r) for r in sequence.layers["lstm_1"].calls[0]] == [f"lstm_1/output{i}:0" for i in range(3)]
    assert sequence.layers["bidirectional_2"].class_name == "Bidirectional"
    assert "forward_lstm" not in sequence.layers  # a wrapper's own layers run inside it


@pytest.mark.parametrize("suffix", [pytest.param(".keras", marks=pytest.mark.slow), ".h5"])
def test_a_layer_as_input_is_a_cut_whose_placeholder_stands_for_its_output(generated, cli, tmp_path, suffix):
    source = generated / "keras_layers" / f"triplet{suffix}"
    embeddings = ["model@0", "model@1", "model@2"]
    result = cli("export", source, "--inputs", *embeddings, "--outputs", "score", "-o", tmp_path / "head")
    assert result.code == 0, result.err
    feeds = _feeds("triplet", seed=1)
    vectors = _keras_outputs(source, "model", feeds)
    want = _keras_model(source)[1].predict(feeds, verbose=0)
    sig = gs.load(tmp_path / "head" / "1").signatures["serving_default"]
    placeholders = {f"model/call{i}:0": v for i, v in enumerate(vectors)}
    assert {k: i.name for k, i in sig.inputs.items()} == {f"model_{i}": name for i, name in enumerate(placeholders)}
    [[got]] = run_in_cpp_loader(tmp_path / "head" / "1", ["serve"],
                                [Run(placeholders, [sig.outputs["score"].name])])
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_cut_to_pb_at_layer_inputs(generated, cli, tmp_path):
    from tests.tfrun import run_pb

    source = generated / "keras_layers" / "triplet.h5"
    result = cli("cut", source, "--inputs", "model@0", "model@1", "model@2", "--outputs", "score",
                 "-o", tmp_path / "head.pb")
    assert result.code == 0, result.err
    feeds = _feeds("triplet", seed=2)
    vectors = _keras_outputs(source, "model", feeds)
    (got,) = run_pb(tmp_path / "head.pb", {f"model/call{i}": v for i, v in enumerate(vectors)}, ["score:0"])
    np.testing.assert_allclose(got, _keras_model(source)[1].predict(feeds, verbose=0), atol=1e-5)


def test_did_you_mean_suggests_layer_names(generated, cli, tmp_path):
    source = generated / "keras_layers" / "siamese.keras"
    result = cli("export", source, "--outputs", "functional_4/dens", "-o", tmp_path / "a")
    assert result.code == 1 and "did you mean: functional_4/dense (layer)" in result.err
    result = cli("export", source, "--outputs", "functional_4@2", "-o", tmp_path / "b")
    assert result.code == 1 and "called 2 time(s); name a call from functional_4@0 to functional_4@1" in result.err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_inspect_all_lists_layers_under_the_models_that_hold_them(generated, cli, suffix):
    result = cli("inspect", generated / "keras_layers" / f"siamese{suffix}", "--all")
    assert result.code == 0, result.err
    rows = [line.split("│")[1:-1] for line in result.out.splitlines() if line.startswith("│")]
    layers = {row[0][1:].rstrip(): (row[1].strip(), row[2].strip()) for row in rows if len(row) == 3}
    assert layers["functional_4"] == ("Functional", "2")
    assert layers["  functional_4/dense"] == ("Dense", "2") and layers["  dense_1"] == ("Dense", "2")
    assert layers["dense"] == ("Dense", "1") and layers["add_20"] == ("Add", "1")


def test_a_nested_layer_of_an_untraced_model_says_to_trace_it(generated):
    model = gs.load(generated / "keras_layers" / "siamese.keras", trace=False)
    assert model.layers["functional_4/dense"].calls == ((), ())
    with pytest.raises(NameNotFoundError, match="trace=True"):
        resolve(model, "functional_4/dense", "output")  # what audit resolves an untraced model's names with
    assert resolve(model, "functional_4@1", "output") == (TensorRef("functional_4"),)


@pytest.fixture
def masked_keras3(generated):
    """Keras 3.15 saves a mask_zero Embedding's mask as a NotEqual op node (keras.src.ops), which loads as is."""
    return generated / "keras_layers" / "masked.keras", []


@pytest.mark.parametrize("suffix", [".keras", pytest.param(".h5", marks=pytest.mark.slow)])
def test_a_cut_that_leaves_a_keras_mask_behind_warns_and_says_how_to_keep_it(generated, cli, tmp_path,
                                                                           masked_keras3, suffix):
    source, extra = masked_keras3 if suffix == ".keras" else (generated / "keras_layers" / "masked.h5", [])
    result = cli("cut", source, *extra, "--outputs", "embedding", "-o", tmp_path / "values.pb")
    assert result.code == 0, result.err
    assert "layer 'embedding' (Embedding), whose Keras mask embedding/mask:0 later layers read" in result.err
    assert "add embedding/mask to --outputs" in result.err
    kept = cli("export", source, *extra, "--outputs", "embedding", "embedding/mask", "-o", tmp_path / "both")
    assert kept.code == 0 and "Keras mask" not in kept.err
    feeds = _feeds("masked", seed=3)
    sig = gs.load(tmp_path / "both" / "1").signatures["serving_default"]
    [[values, mask]] = run_in_cpp_loader(tmp_path / "both" / "1", ["serve"], [Run(
        {sig.inputs["ids"].name: feeds["ids"]}, [sig.outputs["embedding"].name, sig.outputs["mask"].name])])
    np.testing.assert_array_equal(mask, feeds["ids"] != 0)
    np.testing.assert_allclose(values, _keras_outputs(source, "embedding", feeds)[0], atol=1e-5)


def test_a_cut_that_keeps_no_masked_layer_output_does_not_warn(cli, tmp_path, masked_keras3):
    source, extra = masked_keras3
    result = cli("cut", source, *extra, "--outputs", "gru", "-o", tmp_path / "gru.pb")
    assert result.code == 0 and "Keras mask" not in result.err, result.err


def test_only_masks_a_later_layer_reads_are_recorded(generated, masked_keras3):
    source, _ = masked_keras3
    masked = gs.load(source).layers
    assert masked["embedding"].mask == (TensorRef("embedding/mask"),)
    assert masked["gru"].mask == (None,)  # the GRU reads the mask; its own output carries none
    assert all(m is None for layer in gs.load(generated / "keras_layers" / "sequence.keras").layers.values()
               for m in layer.mask)
