"""The batch dimension of cut inputs: an iterator's training batch is relaxed, a Placeholder's kept.

fixtures/build.py's iterator_batch: IteratorGetNext f32[40,3] -> prediction f32[40,1] (trained), and
x_fixed f32[8,3] -> fixed_prediction with the same weights.
"""
from __future__ import annotations

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon.verify import verify
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from tests.tiny import extract


def _dims(info_or_attr) -> list[int]:
    return [d.size for d in info_or_attr.dim]


@pytest.fixture(scope="module")
def source(generated):
    return gs.load(generated / "iterator_batch")


def test_iterator_input_gets_any_batch_and_serves_one_row(generated, source, cli, tmp_path):
    result = cli("export", generated / "iterator_batch", "--inputs", "IteratorGetNext", "--outputs", "prediction",
                 "-o", tmp_path / "serving")
    assert result.code == 0, result.err
    exported = gs.load(tmp_path / "serving" / "1", trace=False)
    sig = exported.signatures["serving_default"]
    assert _dims(sig.inputs["IteratorGetNext"].tensor_shape) == [-1, 3]
    # The recorded _output_shapes said [40, 1]; the signature must not keep that batch.
    assert _dims(sig.outputs["prediction"].tensor_shape) == [-1, 1]
    row = np.array([[0.5, -1.0, 2.0]], np.float32)
    (out,), = run_in_cpp_loader(tmp_path / "serving" / "1", ["serve"], [Run({"IteratorGetNext:0": row}, ["prediction:0"])])
    kernel, bias = source.weights.read("dense/kernel"), source.weights.read("dense/bias")
    np.testing.assert_allclose(out, row @ kernel + bias, rtol=1e-6)
    assert verify(tmp_path / "serving" / "1").ok  # one generated row, in the C++ loader


def test_cut_report_says_the_batch_was_relaxed(generated, cli, tmp_path):
    result = cli("cut", generated / "iterator_batch", "--inputs", "IteratorGetNext", "--outputs", "prediction",
                 "-o", tmp_path / "p.pb")
    assert result.code == 0, result.err
    assert "input  IteratorGetNext: float32[?,3]" in result.out
    assert "batch 40 of the source is now unknown" in result.out


def test_static_batch_keeps_the_iterator_batch(source):
    cut = extract(source, ["IteratorGetNext"], ["prediction"], batch_policy="static")
    assert _dims(cut.graph["IteratorGetNext"].attrs["shape"].shape) == [40, 3]
    assert _dims(cut.graph["prediction"].attrs["_output_shapes"].list.shape[0]) == [40, 1]


def test_relaxed_input_forgets_recorded_shapes_downstream(source):
    cut = extract(source, ["IteratorGetNext"], ["prediction"])
    assert not [n.name for n in cut.graph if "_output_shapes" in n.attrs and n.op != "Const"]


def test_fixed_placeholder_keeps_its_batch_with_a_warning(generated, cli, tmp_path):
    result = cli("cut", generated / "iterator_batch", "--inputs", "x_fixed", "--outputs", "fixed_prediction",
                 "-o", tmp_path / "f.pb")
    assert result.code == 0, result.err
    assert "input  x_fixed: float32[8,3]" in result.out
    assert "Serving clients must send exactly 8 row(s)" in result.err
    relaxed = cli("cut", generated / "iterator_batch", "--inputs", "x_fixed", "--outputs", "fixed_prediction",
                  "-o", tmp_path / "d.pb", "--dynamic-batch")
    assert "input  x_fixed: float32[?,3]" in relaxed.out
    assert "exactly" not in relaxed.err


def test_batch_flags_exclude_each_other(generated, cli, tmp_path):
    with pytest.raises(SystemExit):
        cli("cut", generated / "iterator_batch", "--inputs", "x_fixed", "--outputs", "fixed_prediction",
            "-o", tmp_path / "x.pb", "--dynamic-batch", "--static-batch")


def test_dynamic_batch_on_a_fixed_placeholder_relaxes_both_signatures_and_serves_two_rows(generated, source, cli,
                                                                                            tmp_path):
    result = cli("export", generated / "iterator_batch", "--inputs", "x_fixed", "--outputs", "fixed_prediction",
                 "--dynamic-batch", "-o", tmp_path / "serving")
    assert result.code == 0, result.err
    path = tmp_path / "serving" / "1"
    sig = gs.load(path, trace=False).signatures["serving_default"]
    assert _dims(sig.inputs["x_fixed"].tensor_shape) == [-1, 3]
    assert _dims(sig.outputs["fixed_prediction"].tensor_shape) == [-1, 1]  # the source recorded [8, 1]
    rows = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]], np.float32)
    (out,), = run_in_cpp_loader(path, ["serve"], [Run({"x_fixed:0": rows}, ["fixed_prediction:0"])])
    kernel, bias = source.weights.read("dense/kernel"), source.weights.read("dense/bias")
    np.testing.assert_allclose(out, rows @ kernel + bias, rtol=1e-6)
