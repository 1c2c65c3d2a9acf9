"""Quantized weights (quint8, qint8, qint32, quint16, qint16) travel as their raw integers and keep
TensorFlow's semantics: fixtures/quantized.py's 8-bit detector and checkpoint cut, freeze and export, and
the results compute what the sources compute, in TensorFlow and in its C++ loader.

    data [1,300,300,3] -> conv1 (quint8) -> conv2 (quint8) -> conv3 (qint8, SCALED) --> loc1, loc2 -> mbox_loc
                                                   \\-> conf1 + NaN pad (sliced off) --> softmax -> mbox_conf_flatten
"""
from __future__ import annotations

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon.loaders.checkpoint import read_index
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from tests.audit.schema import audit_json
from tests.tfrun import run_checkpoint, run_pb

OUTPUTS = ["mbox_loc", "mbox_conf_flatten"]
FETCHES = [f"{o}:0" for o in OUTPUTS]
DEGENERATE = "'conf1/pad_bias/dequantize' (quint8, MIN_FIRST, min 0, max 1.17549e-38)"


@pytest.fixture(scope="module")
def detector(generated):
    return generated / "quantized_detector" / "detector_uint8.pb"


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(19).random((1, 300, 300, 3), dtype=np.float32)


@pytest.fixture(scope="module")
def expected(detector, image):
    return run_pb(detector, {"data": image}, FETCHES)


@pytest.mark.parametrize("command", [["cut", "--inputs", "data=float32[1,300,300,3]"], ["freeze"]])
def test_cut_and_freeze_keep_tensorflows_numbers_and_name_the_degenerate_ranges(
        detector, image, expected, cli, tmp_path, command):
    result = cli(command[0], detector, *command[1:], "--outputs", *OUTPUTS, "-o", tmp_path / "d.pb")
    assert result.code == 0, result.err
    assert "2 Dequantize node(s) have a range" in result.err and DEGENERATE in result.err
    assert "unused/pad_bias" not in result.err  # not kept
    written = gs.load(tmp_path / "d.pb")
    assert written.graph["conv1/weights/quantized"].attrs["dtype"].type == 12  # still quint8
    actual = run_pb(tmp_path / "d.pb", {"data": image}, FETCHES)
    for a, e in zip(actual, expected):
        assert np.all(np.isfinite(a))
        np.testing.assert_array_equal(a, e)


def test_export_loads_and_runs_in_the_cpp_loader(detector, image, expected, cli, tmp_path):
    result = cli("export", detector, "--inputs", "data=float32[1,300,300,3]", "--outputs", *OUTPUTS,
                 "-o", tmp_path / "detector")
    assert result.code == 0, result.err
    assert DEGENERATE in result.err
    version = tmp_path / "detector" / "1"
    stored = read_index(str(version / "variables" / "variables"))
    assert {stored[k].dtype for k in stored} >= {11, 12}  # the large qint8 and quint8 weights, as stored
    [actual] = run_in_cpp_loader(version, ["serve"], [Run({"data:0": image}, FETCHES)])
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-7)


def test_audit_names_the_degenerate_ranges_as_risks(detector, cli):
    result = cli("audit", detector, "--outputs", *OUTPUTS)
    assert result.out.count("risk non-finite dequantize") == 2, result.out
    risks = audit_json(cli("audit", detector, "--outputs", *OUTPUTS, "--json").out)["risks"]
    assert [r["kind"] for r in risks].count("non-finite dequantize") == 2


def test_quantized_checkpoint_variables_export_and_compute_the_same(generated, cli, tmp_path):
    source = generated / "quantized_checkpoint"
    x = np.random.default_rng(3).standard_normal((5, 4)).astype(np.float32)
    prefix = str(source / "model.ckpt-1")
    (expected,) = run_checkpoint(prefix + ".meta", prefix, {"x": x}, ["mixed:0"])
    assert cli("cut", source, "--inputs", "x", "--outputs", "mixed", "-o", tmp_path / "m.pb").code == 0
    (actual,) = run_pb(tmp_path / "m.pb", {"x": x}, ["mixed:0"])
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)  # grappler folds the sums its own way
    result = cli("export", source, "--inputs", "x", "--outputs", "mixed", "--inline-limit", "1", "-o", tmp_path / "m")
    assert result.code == 0, result.err
    stored = read_index(str(tmp_path / "m" / "1" / "variables" / "variables"))
    assert {k: stored[k].dtype for k in stored if k.startswith("weights/")} == {
        "weights/qint8": 11, "weights/quint8": 12, "weights/qint32": 13, "weights/quint16": 16}
    # TensorFlow has no Assign kernel for qint16, so that constant cannot be restored into a variable
    assert gs.load(tmp_path / "m" / "1").graph["weights/qint16"].op == "Const"
    [[served]] = run_in_cpp_loader(tmp_path / "m" / "1", ["serve"], [Run({"x:0": x}, ["mixed:0"])])
    np.testing.assert_allclose(served, expected, rtol=1e-6, atol=1e-6)
