"""A relaxed batch is relaxed everywhere: constants that hold the old batch are rewritten or refused.

fixtures/pinned_batch.py: x float32[4,6,2] ->
  y = matmul(reshape(x, [4, 12]), w);  first_sum = sum(slice(reshape(x, [4, -1, 4]), [0,0,0], [4,1,4]))
  flat_out = reshape(x, [48]) * 2;  with_state = concat([y, fill([4, 3])]);  tiled = y + tile(row, [4, 1])
"""
from __future__ import annotations

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon.exporters.graphdef import write_graph_def
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from tests.audit.schema import audit_json
from tests.tfrun import run_pb
from tests.tiny import extract

KEPT = ["y", "first_sum"]


def _dims(shape_proto) -> list[int]:
    return [d.size for d in shape_proto.dim]


def _expected(source: gs.Model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    weights = source.weights.read("dense/w")
    return x.reshape(len(x), 12) @ weights, x.reshape(len(x), -1, 4)[:, 0, :].sum(axis=1)


@pytest.fixture(scope="module")
def source(generated):
    return gs.load(generated / "pinned_batch")


@pytest.mark.parametrize("how", [["--inputs", "x", "--dynamic-batch"], ["--inputs", "x=float32[?,6,2]"]])
def test_relaxed_batch_rewrites_the_reshape_and_slice_and_serves_two_and_four_rows(generated, source, cli,
                                                                                   tmp_path, how):
    result = cli("export", generated / "pinned_batch", *how, "--outputs", *KEPT, "-o", tmp_path / "serving")
    assert result.code == 0, result.err
    path = tmp_path / "serving" / "1"
    exported = gs.load(path, trace=False)
    sig = exported.signatures["serving_default"]
    assert _dims(sig.inputs["x"].tensor_shape) == [-1, 6, 2]
    assert _dims(sig.outputs["y"].tensor_shape) == [-1, 3] and _dims(sig.outputs["first_sum"].tensor_shape) == [-1]
    shapes = {n.name: to_array(n.attrs["value"].tensor).tolist() for n in exported.graph
              if n.op == "Const" and n.weight is None and "any_batch" in n.name}
    assert [-1, 12] in shapes.values() and [-1, 1, 4] in shapes.values()  # rows' target, first's size
    assert exported.graph["steps"].inputs[1].node.startswith("steps/any_batch")  # [4, -1, 4]: batch from x
    x = np.random.default_rng(41).random((4, 6, 2), dtype=np.float32)
    runs = [Run({"x:0": x}, ["y:0", "first_sum:0"]), Run({"x:0": x[:2]}, ["y:0", "first_sum:0"])]
    (y4, sum4), (y2, sum2) = run_in_cpp_loader(path, ["serve"], runs)
    expected_y, expected_sum = _expected(source, x)
    np.testing.assert_allclose(y4, expected_y, rtol=1e-5)
    np.testing.assert_allclose(sum4, expected_sum, rtol=1e-5)
    np.testing.assert_allclose(y2, y4[:2], rtol=1e-6)
    np.testing.assert_allclose(sum2, sum4[:2], rtol=1e-6)


@pytest.mark.parametrize("output, node, value", [("flat_out", "Reshape 'flat'", "[48]"),
                                                 ("with_state", "Fill 'state'", "[4, 3]"),
                                                 ("tiled", "Tile 'bias_rows'", "[4, 1]")])
def test_a_constant_pinning_the_batch_that_cannot_be_rewritten_is_refused_in_one_line(generated, cli, tmp_path,
                                                                                        output, node, value):
    result = cli("cut", generated / "pinned_batch", "--inputs", "x", "--outputs", output, "--dynamic-batch",
                 "-o", tmp_path / "cut.pb")
    assert result.code == 1
    assert f"{node} takes the constant {value}, made for the batch of 4 that input x had" in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert not (tmp_path / "cut.pb").exists()
    audited = cli("audit", generated / "pinned_batch", "--inputs", "x", "--outputs", output, "--dynamic-batch",
                  "--json")
    risks = [r for r in audit_json(audited.out)["risks"] if r["kind"] == "cut refused"]
    assert audited.code == 0 and [r["message"] for r in risks] == [result.err.strip().removeprefix("error: ")]


CTC = "tf1_ctc_lstm_ckpt"
DECODED = ["CTCGreedyDecoder:0", "CTCGreedyDecoder:1", "CTCGreedyDecoder:2", "CTCGreedyDecoder:3"]



@pytest.fixture(scope="module")
def ctc_export(corpus, tmp_path_factory):
    """Its legacy Placeholder says [1,64,?,1] only in _output_shapes, and Reshape [1, -1, 2048] pins batch 1:
    without the rewrite, a batch of two ran as one line of twice the width."""
    model = gs.load(corpus / CTC / "checkpoints.meta")
    cut = extract(model, ["Placeholder", "Placeholder_4"], ["transpose_1", *DECODED], batch_policy="dynamic")
    assert _dims(cut.graph["Placeholder"].attrs["shape"].shape) == [-1, 64, -1, 1]
    return export_saved_model(cut, tmp_path_factory.mktemp("ctc") / "ctc")


def _ctc_runs(version, lines: np.ndarray, *batches: int) -> list[list[np.ndarray]]:
    fetches = ["transpose_1:0", "CTCGreedyDecoder:3"]
    return run_in_cpp_loader(version, ["serve"], [
        Run({"Placeholder:0": lines[:n], "Placeholder_4:0": np.full(n, 50, np.int32)}, fetches) for n in batches])


def test_ctc_checkpoint_with_a_relaxed_batch_serves_each_of_two_rows_as_alone(corpus, ctc_export):
    sig = gs.load(ctc_export, trace=False).signatures["serving_default"]
    assert _dims(sig.inputs["Placeholder"].tensor_shape) == [-1, 64, -1, 1]
    assert _dims(sig.outputs["CTCGreedyDecoder_3"].tensor_shape) == [-1, 1]
    reference = np.load(corpus / CTC / "reference" / f"{CTC}__greedy.npz")
    lines = np.concatenate([reference["x"], np.random.default_rng(0).random((1, 64, 50, 1), dtype=np.float32)])
    (logits2, log_prob2), (logits1, log_prob1) = _ctc_runs(ctc_export, lines, 2, 1)
    (second, second_log_prob), = _ctc_runs(ctc_export, lines[1:], 1)
    np.testing.assert_allclose(logits1, reference["logits_tm"], rtol=1e-5, atol=1e-4)
    assert log_prob1[0, 0] == pytest.approx(-370.5497, abs=1e-3)
    np.testing.assert_allclose(logits2, np.concatenate([logits1, second], axis=1), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(log_prob2, np.concatenate([log_prob1, second_log_prob]), rtol=1e-5)


@pytest.mark.slow
def test_ctc_checkpoint_with_a_relaxed_batch_serves_two_rows_as_it_serves_three_hundred(ctc_export):
    lines = np.random.default_rng(0).random((300, 64, 50, 1), dtype=np.float32)
    (logits300, log_prob300), (logits2, log_prob2) = _ctc_runs(ctc_export, lines, 300, 2)
    np.testing.assert_allclose(logits2, logits300[:, :2], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(log_prob2, log_prob300[:2], rtol=1e-5)


def test_an_iterator_input_relaxed_by_default_gets_its_reshape_rewritten_too(source, tmp_path):
    cut = extract(source, ["IteratorGetNext"], ["pipeline_y"])
    assert _dims(cut.graph["IteratorGetNext"].attrs["shape"].shape) == [-1, 6, 2]
    write_graph_def(cut, tmp_path / "pipeline.pb")
    x = np.random.default_rng(4).random((2, 6, 2), dtype=np.float32)
    [y] = run_pb(tmp_path / "pipeline.pb", {"IteratorGetNext": x}, ["pipeline_y:0"])
    np.testing.assert_allclose(y, _expected(source, x)[0], rtol=1e-5)
