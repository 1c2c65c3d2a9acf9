"""Audit a checkpoint with more than 2 GB of variables: time and peak RSS against a bare TensorFlow import.

    python bench/audit_big.py            # generates bench/out/big-audit (~2.3 GB) once, then 3 runs

Targets (issue 5): the audit finishes in under 2 s plus TensorFlow's import
time, and its peak RSS stays under TensorFlow's import footprint + 200 MB.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "big-audit"
TENSORS, ROWS, COLS = 9, 16384, 4096  # nine 256 MiB float32 variables = 2.25 GiB

GENERATE = f"""
import os, numpy as np, tensorflow as tf
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
v1 = tf.compat.v1
out = {str(OUT)!r}
graph = tf.Graph()
with graph.as_default():
    x = v1.placeholder(tf.float32, [None, {ROWS}], name="x")
    h = x
    for i in range({TENSORS}):
        w = v1.get_variable(f"layer{{i}}/w", [{ROWS}, {COLS}]) if i % 2 == 0 else v1.get_variable(f"layer{{i}}/w", [{COLS}, {ROWS}])
        h = tf.matmul(h, w, name=f"layer{{i}}/out")
    v1.train.Saver().export_meta_graph(os.path.join(out, "model.ckpt-1.meta"))
# Write each tensor in its own bundle (one in memory at a time), then merge.
parts = []
for i in range({TENSORS}):
    shape = ({ROWS}, {COLS}) if i % 2 == 0 else ({COLS}, {ROWS})
    prefix = os.path.join(out, f"part{{i}}", "ckpt")
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=[f"layer{{i}}/w"], shape_and_slices=[""],
                      tensors=[tf.fill(shape, np.float32(i))])
    parts.append(prefix)
tf.raw_ops.MergeV2Checkpoints(checkpoint_prefixes=parts, destination_prefix=os.path.join(out, "model.ckpt-1"),
                              delete_old_dirs=True)
"""


def measured(args: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(proc.stderr.read().decode()[-2000:])
    return time.perf_counter() - start, usage.ru_maxrss * 1024


def main() -> None:
    if not (OUT / "model.ckpt-1.index").is_file():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-c", GENERATE], check=True)
    size = sum(p.stat().st_size for p in OUT.glob("model.ckpt-1.data-*"))
    routes = {
        "import tensorflow": [sys.executable, "-c", "import tensorflow"],
        "graphsurgeon audit": [sys.executable, "-m", "graphsurgeon", "audit", str(OUT / "model.ckpt-1"),
                               "--outputs", "layer4/out", "--json"],
    }
    rows = {}
    for name, args in routes.items():
        runs = [measured(args) for _ in range(3)]
        rows[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
    print(f"checkpoint: {size / 2**30:.2f} GiB of variables in {OUT}")
    print("| route | median wall s | peak RSS MiB |\n|---|---:|---:|")
    for name, (seconds, rss) in rows.items():
        print(f"| {name} | {seconds:.2f} | {rss / 2**20:.0f} |")
    tf_s, tf_rss = rows["import tensorflow"]
    gs_s, gs_rss = rows["graphsurgeon audit"]
    print(f"audit time - TF import time = {gs_s - tf_s:+.2f} s (target < 2 s); "
          f"audit RSS - TF import RSS = {(gs_rss - tf_rss) / 2**20:+.0f} MiB (target < 200 MiB)")


if __name__ == "__main__":
    main()
