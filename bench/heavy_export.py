"""Export 1 GB and 2.5 GB checkpoints to SavedModels three ways, in one run, against the I/O floor.

    python bench/heavy_export.py                   # heavy-1g and heavy-2.5g, 3 runs each (~15 minutes)
    python bench/heavy_export.py --models heavy-1g --runs 1
    python bench/heavy_export.py --models heavy-1g --runs 1 --routes floor graphsurgeon   # skip TF's routes

Models (generated once into bench/out/, deterministic): a stack of 8192x8192
float32 layers (256 MiB each) with a two-layer head and an Adam training branch,
so the checkpoint also holds two slots per variable. The cut keeps the trunk up
to a middle output: 4 layers (1 GiB) for heavy-1g, 9 layers (2.25 GiB) for heavy-2.5g.

Routes, each in a fresh process (wall time, peak RSS via wait4):
  recipe        import_meta_graph + restore + convert_variables_to_constants + extract_sub_graph,
                saved by SavedModelBuilder (weights frozen into saved_model.pb)
  careful       parse the .meta, extract_sub_graph, restore only the kept variables,
                SavedModelBuilder with variables
  graphsurgeon  graphsurgeon export CKPT --inputs x --outputs trunk/layerK/out -o OUT
                (also with --no-load-check: the cost of the check before publishing)
  floor         read the kept bytes from the checkpoint and write them with fsync

After each graphsurgeon export, `graphsurgeon verify OUT/1` (replaying the recorded recipe against the
checkpoint) is measured the same way: its row's "time / gs" is verify's time over the export's.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from routes import CAREFUL, FREEZE, measured

OUT = Path(__file__).resolve().parent / "out"
DIM = 8192
MODELS = {"heavy-1g": 4, "heavy-2.5g": 9}  # kept trunk layers
HEAD_LAYERS = 2

GENERATE = """
import os, sys, numpy as np, tensorflow as tf
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
v1 = tf.compat.v1
v1.disable_resource_variables()  # TF1 ref variables, eager still on for SaveV2
out, kept, head, dim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
graph = tf.Graph()
with graph.as_default():
    x = v1.placeholder(tf.float32, [None, dim], name="x")
    h = x
    for i in range(kept + head):
        scope = "trunk" if i < kept else "head"
        w = v1.get_variable(f"{scope}/layer{i}/w", [dim, dim], initializer=v1.zeros_initializer())
        h = tf.tanh(tf.matmul(h, w), name=f"{scope}/layer{i}/out")
    loss = tf.reduce_mean(tf.square(h))
    v1.train.AdamOptimizer(1e-3).minimize(loss, name="train")
    saver = v1.train.Saver()
    saver.export_meta_graph(os.path.join(out, "model.ckpt-1.meta"))
    names = [v.op.name for v in v1.global_variables()]
    shapes = [v.shape.as_list() for v in v1.global_variables()]
v2 = tf.compat.v2
parts = []
for k, (name, shape) in enumerate(zip(names, shapes)):
    prefix = os.path.join(out, f"part{k}", "ckpt")
    value = np.float32(((k % 7) + 1) / (1000 * dim))
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=[name], shape_and_slices=[""],
                      tensors=[tf.fill(shape, value) if shape else tf.constant(value)])
    parts.append(prefix)
tf.raw_ops.MergeV2Checkpoints(checkpoint_prefixes=parts, destination_prefix=os.path.join(out, "model.ckpt-1"),
                              delete_old_dirs=True)
"""

RECIPE = FREEZE + """
serving = tf.Graph()
with serving.as_default():
    tf.graph_util.import_graph_def(frozen, name="")
    with v1.Session(graph=serving) as s:
        builder = v1.saved_model.Builder(out)
        sig = v1.saved_model.predict_signature_def({"x": serving.get_tensor_by_name("x:0")},
                                                   {"y": serving.get_tensor_by_name(output + ":0")})
        builder.add_meta_graph_and_variables(s, ["serve"], {"serving_default": sig})
        builder.save()
"""

FLOOR = """
import os, sys, time
sys.path.insert(0, sys.argv[3])
from graphsurgeon.loaders.bundle import Bundle
bundle = Bundle(sys.argv[1])
keys = [k for k in sorted(bundle.entries) if k.startswith("trunk/") and "Adam" not in k and k.count("/") == 2]
with open(sys.argv[2], "wb") as out:
    for key in keys:
        entry = bundle.entries[key]
        with open(bundle.shard(entry), "rb") as f:
            f.seek(entry.offset)
            remaining = entry.size
            while remaining:
                chunk = f.read(min(64 << 20, remaining))
                remaining -= len(chunk)
                out.write(chunk)
    out.flush()
    os.fsync(out.fileno())
"""


def generate(name: str, kept: int) -> Path:
    directory = OUT / name
    if not (directory / "model.ckpt-1.index").is_file():
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        subprocess.run([sys.executable, "-c", GENERATE, str(directory), str(kept), str(HEAD_LAYERS), str(DIM)],
                       check=True, capture_output=True)
    return directory / "model.ckpt-1"


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def bench(name: str, kept: int, runs: int, wanted: list[str] | None = None) -> list[dict]:
    prefix = generate(name, kept)
    output = f"trunk/layer{kept - 1}/out"
    work = OUT / f"work-{name}"
    repo = str(Path(__file__).resolve().parents[1])
    routes = {
        "floor": ([sys.executable, "-c", FLOOR, str(prefix), str(work / "floor.bin"), repo], work / "floor.bin"),
        "recipe": ([sys.executable, "-c", RECIPE, str(prefix), output, str(work / "recipe")], work / "recipe"),
        "careful": ([sys.executable, "-c", CAREFUL, str(prefix), output, str(work / "careful")], work / "careful"),
        "graphsurgeon": ([sys.executable, "-m", "graphsurgeon", "export", str(prefix), "--inputs", "x", "--outputs",
                          output, "-o", str(work / "gs")], work / "gs"),
        "graphsurgeon --no-load-check": ([sys.executable, "-m", "graphsurgeon", "export", str(prefix), "--inputs", "x",
                                          "--outputs", output, "-o", str(work / "gs-unchecked"), "--no-load-check"],
                                         work / "gs-unchecked"),
    }
    # graphsurgeon runs last: verify below reads its output, and every run starts from an empty work dir.
    routes = {k: routes[k] for k in sorted(routes, key=lambda k: k == "graphsurgeon")
              if not wanted or k.split()[0] in wanted}
    verify = [sys.executable, "-m", "graphsurgeon", "verify", str(work / "gs" / "1")]  # replays the record
    rows = []
    for route, (args, produced) in routes.items():
        results, verified = [], []
        for _ in range(runs):
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            results.append(measured(args))
            if route == "graphsurgeon":  # verify beside the export it checks, in the same run
                verified.append(measured(verify))
        rows.append({"model": name, "route": route, "seconds": statistics.median(r[0] for r in results),
                     "peak_rss": statistics.median(r[1] for r in results), "ok": all(r[2] for r in results),
                     "output_bytes": size_of(produced),
                     "saved_model_pb": size_of(produced / "1" / "saved_model.pb") if route == "graphsurgeon" else None})
        if verified:
            rows.append({"model": name, "route": "graphsurgeon verify OUT/1", "output_bytes": 0,
                         "seconds": statistics.median(r[0] for r in verified),
                         "peak_rss": statistics.median(r[1] for r in verified), "ok": all(r[2] for r in verified)})
    return rows


def table(rows: list[dict]) -> str:
    gs = next(r for r in rows if r["route"] == "graphsurgeon")
    lines = ["| model | route | median wall s | peak RSS MiB | output MiB | result | time / gs | RSS / gs |",
             "|---|---|---:|---:|---:|---|---:|---:|"]
    for r in rows:
        result = "ok" if r["ok"] else "FAILED"
        lines.append(f"| {r['model']} | {r['route']} | {r['seconds']:.1f} | {r['peak_rss'] / 2**20:.0f} | "
                     f"{r['output_bytes'] / 2**20:.0f} | {result} | {r['seconds'] / gs['seconds']:.2f}x | "
                     f"{r['peak_rss'] / gs['peak_rss']:.2f}x |")
    lines.append(f"\ngraphsurgeon saved_model.pb: {gs['saved_model_pb'] / 1024:.1f} KiB")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--routes", nargs="+", help="only these routes (floor, recipe, careful, graphsurgeon)")
    args = parser.parse_args()
    bare = [measured([sys.executable, "-c", "import tensorflow"]) for _ in range(args.runs)]
    print(f"import tensorflow: {statistics.median(b[0] for b in bare):.2f} s, "
          f"{statistics.median(b[1] for b in bare) / 2**20:.0f} MiB peak RSS\n")
    for name in args.models:
        print(table(bench(name, MODELS[name], args.runs, args.routes)), end="\n\n")


if __name__ == "__main__":
    main()
