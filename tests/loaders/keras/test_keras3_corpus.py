"""Batch 2 of the corpus: real Keras 3 and tf.keras 2.15 files against their reference/ outputs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader

RECOMMENDER_CLASS = Path(__file__).parent / "data" / "recommender_net.py"
POWER = "k3_power_consumption_triple"


def _reference(corpus, folder: str, name: str):
    return np.load(corpus / folder / "reference" / f"{folder}__{name}.npz")


def _served(path, inputs: dict, outputs: list[str], runs: int = 1) -> list:
    return run_in_cpp_loader(path, ["serve"], [Run(inputs, outputs)])[0]


@pytest.mark.parametrize("source", ["neural_network_model.keras", "neural_network_model.h5", "saved_model"])
def test_power_consumption_keras_h5_and_saved_model_give_the_reference(corpus, cli, tmp_path, source):
    ref = _reference(corpus, POWER, "neural_network_model_keras")
    assert cli("export", corpus / POWER / source, "-o", tmp_path / "s").code == 0
    sig = gs.load(tmp_path / "s" / "1").signatures["serving_default"]
    [key_in], [key_out] = list(sig.inputs), list(sig.outputs)
    [got] = _served(tmp_path / "s" / "1", {sig.inputs[key_in].name: ref["in0"]}, [sig.outputs[key_out].name])
    np.testing.assert_allclose(got.ravel(), [-0.893860, 1.430252, 0.577272], atol=1e-5)
    np.testing.assert_allclose(got, ref["out0"], atol=1e-5)


def test_power_consumption_cut_at_dense_2(corpus, cli, tmp_path):
    source = corpus / POWER / "neural_network_model.keras"
    assert cli("cut", source, "--outputs", "dense_2", "-o", tmp_path / "dense_2.pb").code == 0
    from tests.tfrun import run_pb

    x = _reference(corpus, POWER, "neural_network_model_keras")["in0"]
    (got,) = run_pb(tmp_path / "dense_2.pb", {"input_layer": x}, ["dense_2:0"])
    assert got.shape == (3, 32) and got.dtype == np.float32
    cut = gs.load(tmp_path / "dense_2.pb")
    assert [d.size for d in cut.graph["input_layer"].attrs["shape"].shape.dim] == [-1, 25]


def test_subclassed_recommender_names_its_class_then_reproduces_the_batch_coupling(corpus, cli, tmp_path):
    source = corpus / "k3_subclassed_recommender" / "recommender_model.keras"
    missing = cli("export", source, "-o", tmp_path / "a")
    assert missing.code == 1 and "RecommenderNet" in missing.err and "--custom-objects" in missing.err
    assert cli("export", source, "--custom-objects", RECOMMENDER_CLASS, "-o", tmp_path / "b").code == 0
    ref = _reference(corpus, "k3_subclassed_recommender", "recommender_model_keras")
    pairs = ref["in0"].astype(np.float32)  # ids as the float32 input Keras builds a subclassed model with
    [[batch], [alone]] = run_in_cpp_loader(tmp_path / "b" / "1", ["serve"], [
        Run({"input_0:0": pairs}, ["output_0:0"]), Run({"input_0:0": pairs[:1]}, ["output_0:0"])])
    np.testing.assert_allclose(batch.ravel(), [0.986273, 0.960799, 0.717140], atol=1e-5)
    np.testing.assert_allclose(batch, ref["out0"], atol=1e-5)
    np.testing.assert_allclose(alone.ravel(), [0.975437], atol=1e-5)


def test_tf_keras_2_15_windows_archive_with_backslash_groups(corpus, cli, tmp_path):
    source = corpus / "tfkeras215_dotkeras_churn" / "model" / "my_model.keras"
    metadata = gs.load(source, trace=False)
    assert "layers/dense/vars/0" in metadata.weights and metadata.weights["layers/dense/vars/0"].shape == (11, 6)
    assert cli("export", source, "-o", tmp_path / "s").code == 0
    ref = _reference(corpus, "tfkeras215_dotkeras_churn", "my_model_keras")
    [got] = _served(tmp_path / "s" / "1", {"dense_input:0": ref["in0"]}, ["dense_2:0"])
    np.testing.assert_allclose(got.ravel(), [0.166617, 0.033192], atol=1e-5)
