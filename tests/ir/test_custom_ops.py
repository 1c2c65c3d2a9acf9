"""Ops TensorFlow does not register: every command names every one the kept graph needs, with its package.

fixtures/custom_ops.py: forest.pb computes `scores` through TF-DF (SimpleML*) and TF-Text (NormalizeUTF8)
ops, `baseline` through registered ops only, and an Addons> op sits on a branch neither output needs.
fixtures/tf2_unusual.py: custom_ops/ is a TF2 SavedModel whose functions use NormalizeUTF8 and
SimpleMLInferenceOpWithHandle, as a TF-DF or TF-Text SavedModel does.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from graphsurgeon.ir.custom_ops import provider
from tests.audit.schema import audit_json
from tests.cli.test_hostile_inputs import _one_line
from tests.tfrun import run_pb

FOREST_OPS = ["NormalizeUTF8", "SimpleMLCreateModelResource", "SimpleMLInferenceOpWithHandle",
              "SimpleMLLoadModelFromPathWithHandle"]


@pytest.fixture(scope="module")
def custom(generated) -> Path:
    return generated / "custom_ops"


@pytest.mark.parametrize("op, package", [
    ("SimpleMLLoadModelFromPathWithHandle", "tensorflow_decision_forests"), ("NormalizeUTF8", "tensorflow_text"),
    ("TFText>RoundRobinTrim", "tensorflow_text"), ("Addons>Resampler", "tensorflow_addons"),
    ("IO>DecodeJSON", "tensorflow_io"), ("TFRA>CuckooHashTableFind", "tensorflow_recommenders_addons"),
    ("MyCompanyOp", None),
])
def test_the_table_knows_each_packages_ops(op, package):
    assert provider(op) == package


@pytest.mark.parametrize("model", ["forest.pb", "saved_model"])
def test_inspect_lists_every_unregistered_op_with_its_package(custom, cli, model):
    result = cli("inspect", custom / model, "--json")
    assert result.code == 0, result.err
    import json

    listed = {u["op"]: u["package"] for u in json.loads(result.out)["unregistered_ops"]}
    assert listed == {"Addons>GeluGrad": "tensorflow_addons", "NormalizeUTF8": "tensorflow_text",
                      **{op: "tensorflow_decision_forests" for op in FOREST_OPS[1:]}}
    text = cli("inspect", custom / model).out.replace("\n", "")
    assert "Unregistered ops" in text and "'forest/inference', from tensorflow_decision_forests" in text


def test_audit_lists_each_op_the_kept_graph_needs_and_a_cut_without_them_works(custom, cli, tmp_path):
    result = cli("audit", custom / "forest.pb", "--outputs", "scores", "--json")
    risks = [r for r in audit_json(result.out)["risks"] if r["kind"] == "op missing from the C++ runtime"]
    assert [r["node"] for r in risks] == FOREST_OPS  # not the Addons op, which neither output needs
    assert "from tensorflow_decision_forests" in risks[1]["message"]
    result = cli("cut", custom / "forest.pb", "--inputs", "features", "--outputs", "baseline", "-o", tmp_path / "b.pb")
    assert result.code == 0, result.err
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    (actual,) = run_pb(tmp_path / "b.pb", {"features": x}, ["baseline:0"])
    w = np.random.default_rng(21).standard_normal((4, 2)).astype(np.float32)
    np.testing.assert_allclose(actual, x @ w + [0.5, -0.5], rtol=1e-6)
    result = cli("export", custom / "saved_model", "--outputs", "baseline", "-o", tmp_path / "served")
    assert result.code == 0, result.err


@pytest.mark.parametrize("command", [["cut", "--inputs", "features", "text"], ["freeze"], ["export"]])
def test_a_cut_that_needs_them_is_one_line_naming_every_op(custom, cli, tmp_path, command):
    model = custom / ("saved_model" if command[0] == "export" else "forest.pb")
    out = tmp_path / ("out" if command[0] == "export" else "scores.pb")
    line = _one_line(cli(command[0], model, *command[1:], "--outputs", "scores", "-o", out), tmp_path, set())
    assert "the graph needs 4 op(s) this TensorFlow does not register" in line
    for op in FOREST_OPS:
        assert f"'{op}'" in line
    assert "'NormalizeUTF8' (node 'text/normalized', from tensorflow_text)" in line
    assert "the ops of tensorflow_decision_forests and tensorflow_text" in line


def test_tf2_saved_model_with_custom_ops_is_one_line_and_inspect_reads_it(generated, cli, tmp_path):
    source = generated / "tf2_unusual" / "custom_ops"
    line = _one_line(cli("export", source, "-o", tmp_path / "out"), tmp_path, set())
    assert "its functions use 2 op(s) this TensorFlow does not register" in line
    assert "'SimpleMLInferenceOpWithHandle' (node 'Sqrt' of function '__inference_forest_" in line
    assert "from tensorflow_text" in line and "Traceback" not in line
    text = cli("inspect", source).out.replace("\n", "")
    assert "'NormalizeUTF8'" in text and "'SimpleMLInferenceOpWithHandle'" in text
    result = cli("audit", source)
    assert result.out.count("op missing from the C++ runtime") == 2, result.out
