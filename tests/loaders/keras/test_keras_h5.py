"""Keras .h5 files read with h5py alone: metadata and lazy weights for inspect and audit."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon import errors, surgery
from graphsurgeon.audit.report import audit

FACE = "faceclf_gender_mini_xception/gender_mini_XCEPTION.21-0.95.hdf5"


def test_layers_and_weights_without_keras(corpus):
    model = gs.load(corpus / FACE, trace=False)
    assert model.source.details == {"keras_version": "2.0.5", "backend": "tensorflow", "model_class": "Model"}
    kernel = model.weights["conv2d_1/kernel"]
    assert kernel.shape == (3, 3, 1, 8) and kernel.nbytes == 3 * 3 * 8 * 4
    with h5py.File(corpus / FACE, "r") as f:
        expected = f["model_weights/conv2d_1/conv2d_1/kernel:0"][()]
    np.testing.assert_array_equal(model.weights.read("conv2d_1/kernel"), expected)


def test_keras1_names_and_lambda_file_read_without_executing_anything(corpus):
    model = gs.load(corpus / "carnd_behavioral_cloning_lambda" / "model.h5", trace=False)
    assert model.source.details["keras_version"] == "1.2.1"
    assert "convolution2d_1/convolution2d_1_W" in model.weights


def test_audit_of_a_keras_file_shows_optimizer_state(corpus):
    # Audited from its output layers, as export keeps it: the optimizer state is removable, and no risk.
    report = audit(gs.load(corpus / FACE, trace=False))
    removable = {g.group: g.nbytes for g in report.removable_groups}
    assert removable["optimizer state"] > 0
    assert not any(r.kind == "training nodes" for r in report.risks)


def test_surgery_on_metadata_only_model_is_refused_clearly(corpus):
    with pytest.raises(gs.GraphSurgeonError, match=r"weights \(inspect, audit\) but no graph; load it with trace=True"):
        surgery.cut(gs.load(corpus / FACE, trace=False), [], ["predictions"])


def test_inspect_h5_is_fast_and_never_imports_tensorflow(corpus, capsys, tmp_path):
    # An empty op cache, as on a fresh install: a Keras file's summary must not need TensorFlow's op registry.
    script = ("import sys, time\nt = time.perf_counter()\nfrom graphsurgeon.cli.main import main\n"
              f"main(['inspect', {str(corpus / FACE)!r}])\n"
              "tf = sys.modules.get('tensorflow')\n"
              "print('TF', 'real' if tf is not None and not getattr(tf, '__graphsurgeon_stub__', False) else 'none')\n"
              "print('SECONDS', time.perf_counter() - t)\n")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={"COLUMNS": "120", "PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
                                 "GRAPHSURGEON_CACHE_DIR": str(tmp_path / "empty-cache")})
    wall = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    seconds = float(result.stdout.split("SECONDS")[1])
    with capsys.disabled():  # shown in every run's output, not only on failure
        print(f"\ninspect {FACE}: {seconds:.2f} s in-process, {wall:.2f} s including the interpreter")
    assert "TF none" in result.stdout and "keras_version: 2.0.5" in result.stdout


def test_damaged_dot_keras_archive_is_a_clear_error(tmp_path):
    (tmp_path / "m.keras").write_bytes(b"PK")
    with pytest.raises(errors.LoadError, match="is not a zip archive"):
        gs.load(tmp_path / "m.keras")
