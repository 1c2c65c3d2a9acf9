"""Cut a ~100,000-node TF1 checkpoint graph three ways, in one run, and compare.

    python bench/wide_cut.py                      # 100k nodes, 3 runs each
    python bench/wide_cut.py --layers 180 --runs 1  # ~10k nodes, quick

Routes, each in a fresh subprocess (wall time and peak RSS of that process):
  recipe    TensorFlow's: import_meta_graph + restore + convert_variables_to_constants
            + extract_sub_graph + remove_training_nodes, write .pb
  careful   the best TensorFlow route: parse the .meta, extract_sub_graph, import it,
            restore only the kept variables, save a SavedModel with variables
  gs        graphsurgeon cut CKPT --inputs x --outputs OUT -o cut.pb

The model: a stack of dense+tanh layers trained one step with Adam (so there
are gradients, slots and a saver), cut from the input to a middle layer.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

from routes import CAREFUL, FREEZE, measured

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

GENERATE = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np, tensorflow as tf
v1 = tf.compat.v1
v1.disable_v2_behavior()
layers, out_dir = int(sys.argv[1]), sys.argv[2]
v1.set_random_seed(0)
x = v1.placeholder(tf.float32, [None, 8], name="x")
h = x
for i in range(layers):
    with v1.variable_scope(f"layer{i}"):
        w = v1.get_variable("w", [8, 8])
        b = v1.get_variable("b", [8], initializer=v1.zeros_initializer())
        h = tf.tanh(tf.matmul(h, w) + b, name="out")
loss = tf.reduce_mean(tf.square(h))
train = v1.train.AdamOptimizer(1e-3).minimize(loss)
with v1.Session() as s:
    s.run(v1.global_variables_initializer())
    s.run(train, {x: np.ones((2, 8), np.float32)})
    v1.train.Saver().save(s, os.path.join(out_dir, "model.ckpt"), global_step=1)
print(len(v1.get_default_graph().as_graph_def().node))
"""

RECIPE = FREEZE + """
frozen = v1.graph_util.remove_training_nodes(frozen, protected_nodes=[output])
with open(out, "wb") as f:
    f.write(frozen.SerializeToString())
"""

def run_measured(args: list[str]) -> tuple[float, int]:
    seconds, peak, ok = measured(args)
    if not ok:
        raise SystemExit(f"failed: {' '.join(args)}")
    return seconds, peak


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def generate(layers: int) -> tuple[Path, int]:
    model_dir = OUT / f"wide-{layers}"
    marker = model_dir / "nodes.txt"
    if not marker.is_file():
        shutil.rmtree(model_dir, ignore_errors=True)
        model_dir.mkdir(parents=True)
        nodes = subprocess.run([sys.executable, "-c", GENERATE, str(layers), str(model_dir)], check=True,
                               capture_output=True, text=True).stdout.strip().splitlines()[-1]
        marker.write_text(nodes)
    return model_dir / "model.ckpt-1", int(marker.read_text())


def routes(prefix: Path, output: str, work: Path) -> dict[str, tuple[list[str], Path]]:
    gs = [sys.executable, "-m", "graphsurgeon", "cut", str(prefix), "--inputs", "x", "--outputs", output,
          "-o", str(work / "gs.pb"), "--force"]
    return {
        "recipe": ([sys.executable, "-c", RECIPE, str(prefix), output, str(work / "recipe.pb")], work / "recipe.pb"),
        "careful": ([sys.executable, "-c", CAREFUL, str(prefix), output, str(work / "careful")], work / "careful"),
        "graphsurgeon": (gs, work / "gs.pb"),
    }


def bench(layers: int, runs: int) -> list[dict]:
    prefix, nodes = generate(layers)
    output = f"layer{layers // 2}/out"
    work = OUT / f"work-{layers}"
    rows = []
    for name, (args, produced) in routes(prefix, output, work).items():
        times, peaks = [], []
        for _ in range(runs):
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            seconds, peak = run_measured(args)
            times.append(seconds)
            peaks.append(peak)
        rows.append({"route": name, "nodes": nodes, "seconds": statistics.median(times),
                     "peak_rss": statistics.median(peaks), "output_bytes": size_of(produced)})
    return rows


def table(rows: list[dict]) -> str:
    gs = next(r for r in rows if r["route"] == "graphsurgeon")
    lines = ["| model nodes | route | median wall s | peak RSS MiB | output KiB | time / gs | RSS / gs |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['nodes']} | {r['route']} | {r['seconds']:.2f} | {r['peak_rss'] / 2**20:.0f} | "
                     f"{r['output_bytes'] / 1024:.0f} | {r['seconds'] / gs['seconds']:.1f}x | "
                     f"{r['peak_rss'] / gs['peak_rss']:.1f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=textwrap.dedent(__doc__).split("\n\n")[0])
    parser.add_argument("--layers", type=int, nargs="+", default=[180, 1800],
                        help="dense layers per generated model (~55 nodes each); default 180 and 1800 (~10k and ~100k nodes)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {layers: bench(layers, args.runs) for layers in args.layers}
    for layers, rows in results.items():
        print(table(rows), end="\n\n")
    if len(results) == 2:
        small, large = (next(r for r in results[k] if r["route"] == "graphsurgeon") for k in sorted(results))
        print(f"graphsurgeon time({large['nodes']} nodes) / time({small['nodes']} nodes) = "
              f"{large['seconds'] / small['seconds']:.2f}")


if __name__ == "__main__":
    main()
