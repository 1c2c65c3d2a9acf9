"""The same export twice is the same bytes, for a source TensorFlow does not trace the same way twice: a Keras 2
RNN (freezing lowers its while loops in a node order that varies, and marks some nodes
_has_manual_control_dependencies on some runs only). Each export is a fresh `graphsurgeon` process, as a user
runs it: within one process TensorFlow also numbers some node names from a process-wide counter."""
from __future__ import annotations

import subprocess
import sys

import pytest


def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow  # three fresh processes trace a two-RNN Keras model (the variation shows in one pair of three)
def test_a_keras2_rnn_exports_the_same_bytes_every_time(generated, tmp_path):
    source = generated / "keras_layers" / "sequence.h5"
    exports = []
    for run in range(3):
        out = tmp_path / f"run{run}"
        subprocess.run([sys.executable, "-m", "graphsurgeon", "export", str(source), "-o", str(out),
                        "--no-load-check"], check=True, capture_output=True)
        exports.append(_files(out / "1"))
    assert all(files == exports[0] for files in exports[1:])
