"""Missing saved values are refused, naming the files; constant initial values only where nothing was saved.

Every fixture's variables have constant initializers (w ones, b 0.5) and trained values that differ,
so an export that took initial values for trained ones would publish a model computing something else.
"""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import graphsurgeon as gs
from graphsurgeon.exporters.graphdef import write_graph_def
from tests.cli.test_hostile_inputs import _one_line
from tests.tfrun import run_pb
from tests.tiny import extract

v1 = tf.compat.v1
X = np.arange(12, dtype=np.float32).reshape(3, 4) / 4
TRAINED = X @ (np.arange(8, dtype=np.float32) / 10).reshape(4, 2) + np.array([2.0, -2.0], np.float32)


def test_saved_model_without_variables_is_refused_naming_the_files(generated, cli, tmp_path):
    source = generated / "saved_model_no_variables" / "1"
    line = _one_line(cli("export", source, "-o", tmp_path / "out"), tmp_path, set())
    assert f"SavedModel {source} has no variables/ directory (variables.index and variables.data-*)" in line
    assert "(w, b)" in line and "--init-from-initializers" in line
    line = _one_line(cli("cut", source, "--outputs", "y", "-o", tmp_path / "y.pb"), tmp_path, set())
    assert "has no variables/" in line


def test_a_checkpoint_lacking_a_variable_its_saver_restores_is_refused(generated, cli, tmp_path):
    prefix = generated / "partial_checkpoint" / "model.ckpt-1"
    result = cli("cut", generated / "partial_checkpoint", "--outputs", "y", "-o", tmp_path / "y.pb")
    line = _one_line(result, tmp_path, set())
    assert f"checkpoint {prefix}.index has no value for 1 variable(s)" in line and "(b)" in line
    result = cli("export", f"{prefix}.meta", "--weights", prefix, "--outputs", "y", "-o", tmp_path / "out")
    line = _one_line(result, tmp_path, set())  # --weights is that checkpoint too
    assert f"{prefix}.index has no value" in line
    model = extract(gs.load(generated / "partial_checkpoint"), [], ["y"], init_from_initializers=True)
    np.testing.assert_array_equal(model.weights.read("b"), [0.5, 0.5])  # when asked for, initial values are taken


def test_a_variable_the_saver_leaves_out_is_initialized_as_tensorflow_does(generated, tmp_path, caplog):
    with caplog.at_level("WARNING"):
        write_graph_def(extract(gs.load(generated / "saver_leaves_out"), ["x"], ["y"]), tmp_path / "y.pb")
    assert "take their constant initial values (scale)" in caplog.text
    prefix = str(generated / "saver_leaves_out" / "model.ckpt-1")
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as session:
        saver = v1.train.import_meta_graph(prefix + ".meta")
        saver.restore(session, prefix)  # w and b; scale is not in the checkpoint
        session.run(graph.get_operation_by_name("scale/Assign"))
        (expected,) = session.run(["y:0"], {"x:0": X})
    np.testing.assert_allclose(expected, TRAINED * 3.0, rtol=1e-6)
    (actual,) = run_pb(tmp_path / "y.pb", {"x": X}, ["y:0"])
    np.testing.assert_allclose(actual, expected, rtol=1e-6)


@pytest.mark.parametrize("name, expected", [
    ("no_variables", "has no variables/ directory (variables.index and variables.data-*), so its 2 variable(s) (w, b)"),
    ("missing_variable", "variables/variables.index has no value for 1 variable(s)"),
])
def test_tf2_saved_model_with_missing_values_is_one_line(generated, cli, tmp_path, name, expected):
    line = _one_line(cli("export", generated / "tf2_unusual" / name, "-o", tmp_path / "out"), tmp_path, set())
    assert expected in line
