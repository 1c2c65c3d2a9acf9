"""Batch 2 of ../shared/corpus: the contrib.learn and CTC training checkpoints, exported and run in the C++ loader.

Numbers come from each artifact's reference/*.npz (MANIFEST.md, "Test per artifact (batch 2)").
"""
from __future__ import annotations

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.surgery.select import InputSpec
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from tests.tiny import extract

GUESSLANG = "guesslang_0_9_3_contrib_learn_ckpt"
CTC = "tf1_ctc_lstm_ckpt"
DECODED = ["CTCGreedyDecoder:0", "CTCGreedyDecoder:1", "CTCGreedyDecoder:2", "CTCGreedyDecoder:3"]


def _reference(corpus, name: str, stem: str):
    return np.load(corpus / name / "reference" / f"{name}__{stem}.npz")


@pytest.fixture(scope="module")
def guesslang(corpus):
    model = gs.load(corpus / GUESSLANG / "model" / "model.ckpt-40198.meta")
    spec = InputSpec.parse("const_features=float64[?,1024]")
    return extract(model, [spec], ["multi_class_head/predictions/probabilities"])


def test_guesslang_part_0_variables_freeze_from_the_full_checkpoint_tensors(guesslang):
    placeholder = guesslang.graph["const_features"]
    assert placeholder.op == "Placeholder"
    assert [d.size for d in placeholder.attrs["shape"].shape.dim] == [-1, 1024]  # the baked batch of 1000 is gone
    frozen = {n.weight for n in guesslang.graph if n.op == "Const" and n.weight}
    assert {"linear//weight/part_0", "dnn/hiddenlayer_0/weights/part_0"} <= frozen
    assert guesslang.weights["dnn/hiddenlayer_0/weights/part_0"].shape == (1024, 256)


def test_guesslang_exported_probabilities_match_the_reference(corpus, guesslang, tmp_path):
    reference = _reference(corpus, GUESSLANG, "probabilities")
    version = export_saved_model(guesslang, tmp_path / "guesslang")
    [[probabilities]] = run_in_cpp_loader(version, ["serve"], [Run(
        {"const_features:0": reference["features3"]}, ["multi_class_head/predictions/probabilities:0"])])
    np.testing.assert_allclose(probabilities, reference["probabilities3"], atol=1e-6)
    assert probabilities.argmax(axis=1).tolist() == [15, 15, 18]


@pytest.fixture(scope="module")
def ctc(corpus):
    model = gs.load(corpus / CTC / "checkpoints.meta")
    return extract(model, ["Placeholder:0", "Placeholder_4:0"], DECODED)


def test_ctc_cut_prunes_the_training_machinery(ctc):
    ops = {n.op for n in ctc.graph}
    assert not ops & {"CTCLoss", "EditDistance", "StackPushV2", "StackPopV2", "TensorArrayGradV3", "VariableV2"}
    assert not {"Placeholder_1", "Placeholder_2", "Placeholder_3"} & set(ctc.graph.names)
    assert not any(n.startswith("gradients/") for n in ctc.graph.names)


@pytest.fixture(scope="module")
def ctc_export(ctc, tmp_path_factory):
    return export_saved_model(ctc, tmp_path_factory.mktemp("serve") / "ctc")


def test_ctc_export_decodes_the_reference_line_as_three_sparse_tensors(corpus, ctc_export):
    reference = _reference(corpus, CTC, "greedy")
    version = ctc_export
    signature = gs.load(version, trace=False).signatures["serving_default"]
    assert sorted(t.name for t in signature.outputs.values()) == DECODED  # indices, values, dense_shape, log_prob
    [[indices, values, shape, log_prob]] = run_in_cpp_loader(version, ["serve"], [Run(
        {"Placeholder:0": reference["x"], "Placeholder_4:0": reference["seq_len"]}, DECODED)])
    assert values.tolist() == [18] and shape.tolist() == [1, 1]
    np.testing.assert_array_equal(indices, reference["dec_indices"])
    np.testing.assert_allclose(log_prob, reference["log_prob"], atol=1e-3)
    assert log_prob.ravel()[0] == pytest.approx(-370.5497, abs=1e-3)


@pytest.mark.slow
def test_ctc_export_verifies_against_the_checkpoint(corpus, ctc_export):
    reference = _reference(corpus, CTC, "greedy")
    report = gs.verify(ctc_export, feeds={"Placeholder": reference["x"], "Placeholder_4": reference["seq_len"]},
                       against=corpus / CTC / "checkpoints")
    assert report.ok, report
