"""Exporting streams weights: memory does not grow with the model."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

# 256 MiB written per run: kept out of the default run (the suite's 8 minutes); `pytest -m slow` runs it,
# and bench/heavy_export.py measures the same property at 1 and 2.25 GiB.
pytestmark = pytest.mark.slow

TENSORS, ROWS, COLS = 4, 8192, 2048  # four 64 MiB float32 variables: 256 MiB

GENERATE = f"""
import os, sys, numpy as np, tensorflow as tf
out = sys.argv[1]
v1 = tf.compat.v1
graph = tf.Graph()
with graph.as_default():
    h = v1.placeholder(tf.float32, [None, {ROWS}], name="x")
    for i in range({TENSORS}):
        shape = [{ROWS}, {COLS}] if i % 2 == 0 else [{COLS}, {ROWS}]
        h = tf.matmul(h, v1.get_variable(f"layer{{i}}/w", shape), name=f"layer{{i}}/out")
    v1.train.Saver().export_meta_graph(os.path.join(out, "model.ckpt-1.meta"))
names, values = [], []
for i in range({TENSORS}):
    shape = ({ROWS}, {COLS}) if i % 2 == 0 else ({COLS}, {ROWS})
    names.append(f"layer{{i}}/w")
    values.append(tf.fill(shape, np.float32((i + 1) / 1000)))  # float32 under numpy 1.x too (no promotion)
tf.raw_ops.SaveV2(prefix=os.path.join(out, "model.ckpt-1"), tensor_names=names, shape_and_slices=[""] * {TENSORS},
                  tensors=values)
"""


def _peak_rss(args: list[str]) -> int:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read().decode()[-2000:]
    return usage.ru_maxrss * 1024


@pytest.fixture(scope="module")
def big_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("big")
    subprocess.run([sys.executable, "-c", GENERATE, str(out)], check=True, capture_output=True)
    return out / "model.ckpt-1"


def test_export_memory_does_not_grow_with_model_bytes(big_checkpoint, tmp_path):
    model_bytes = TENSORS * ROWS * COLS * 4
    bare = _peak_rss([sys.executable, "-c", "import tensorflow"])
    export = _peak_rss([sys.executable, "-m", "graphsurgeon", "export", str(big_checkpoint), "--inputs", "x",
                        "--outputs", f"layer{TENSORS - 1}/out", "-o", str(tmp_path / "serving")])
    print(f"model {model_bytes / 2**20:.0f} MiB; peak RSS: import tensorflow {bare / 2**20:.0f} MiB, "
          f"export {export / 2**20:.0f} MiB ({(export - bare) / 2**20:+.0f} MiB)")
    assert export - bare < model_bytes / 2
    written = sum(p.stat().st_size for p in (tmp_path / "serving" / "1" / "variables").iterdir())
    assert written >= model_bytes


def test_exported_big_model_verifies(big_checkpoint, tmp_path, cli):
    assert cli("export", big_checkpoint, "--inputs", "x", "--outputs", "layer1/out", "-o", tmp_path / "s").code == 0
    result = cli("verify", tmp_path / "s" / "1", "--against", big_checkpoint)
    assert result.code == 0, result.out
