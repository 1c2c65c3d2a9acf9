"""Cut ~100,000- and ~1,000,000-node TF1 checkpoint graphs three ways, in one run, and compare.

    python bench/wide_cut.py                          # 100k nodes (every route) and 1M (graphsurgeon), 3 runs each
    python bench/wide_cut.py --layers 180 --runs 1    # ~10k nodes, quick
    python bench/wide_cut.py --layers 18000 --routes careful graphsurgeon

Routes, each in a fresh subprocess (wall time and peak RSS of that process):
  recipe    TensorFlow's: import_meta_graph + restore + convert_variables_to_constants
            + extract_sub_graph + remove_training_nodes, write .pb
  careful   the best TensorFlow route: parse the .meta, extract_sub_graph, import it,
            restore only the kept variables, save a SavedModel with variables
  gs        graphsurgeon cut CKPT --inputs x --outputs OUT -o cut.pb

The model (bench/wide_model.py): a stack of dense+tanh layers trained one step
with Adam (so there are gradients, slots and a saver), cut from the input to a
middle layer. Runs are interleaved (each run times every route once), so load
that changes during a run weighs on every route alike. Above TF_ROUTES_UP_TO
layers only graphsurgeon runs unless --routes names others: TensorFlow's recipe
imports the whole graph, which at 1M nodes needs more memory than the machine has.
"""
from __future__ import annotations

import argparse
import compileall
import importlib.util
import shutil
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

from routes import CAREFUL, FREEZE, measured
from wide_model import PREFIX

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
ROUTES = ("recipe", "careful", "graphsurgeon")
TF_ROUTES_UP_TO = 2000  # layers (~110k nodes)

RECIPE = FREEZE + """
frozen = v1.graph_util.remove_training_nodes(frozen, protected_nodes=[output])
with open(out, "wb") as f:
    f.write(frozen.SerializeToString())
"""

def run_measured(args: list[str], cwd: Path) -> tuple[float, int]:
    seconds, peak, ok = measured(args, cwd)
    if not ok:
        raise SystemExit(f"failed: {' '.join(args)}")
    return seconds, peak


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def generate(layers: int) -> tuple[Path, int]:
    """The model with ``layers`` layers (bench/wide_model.py), made once into bench/out/."""
    model_dir = OUT / f"wide-{layers}"
    marker = model_dir / "nodes.txt"
    if not marker.is_file():
        shutil.rmtree(model_dir, ignore_errors=True)
        nodes = subprocess.run([sys.executable, str(HERE / "wide_model.py"), "build", str(layers), str(model_dir)],
                               check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        marker.write_text(nodes)
    return model_dir / PREFIX, int(marker.read_text())


def routes(prefix: Path, output: str, work: Path) -> dict[str, tuple[list[str], Path]]:
    gs = [sys.executable, "-m", "graphsurgeon", "cut", str(prefix), "--inputs", "x", "--outputs", output,
          "-o", str(work / "gs.pb"), "--force"]
    return {
        "recipe": ([sys.executable, "-c", RECIPE, str(prefix), output, str(work / "recipe.pb")], work / "recipe.pb"),
        "careful": ([sys.executable, "-c", CAREFUL, str(prefix), output, str(work / "careful")], work / "careful"),
        "graphsurgeon": (gs, work / "gs.pb"),
    }


def compile_graphsurgeon() -> None:
    """Write graphsurgeon's bytecode, as pip does when it installs a package (TensorFlow's is there): with
    PYTHONDONTWRITEBYTECODE set, a checkout would otherwise compile ~150 modules on every run."""
    spec = importlib.util.find_spec("graphsurgeon")
    if spec is None or spec.origin is None:
        raise SystemExit("graphsurgeon is not importable: set PYTHONPATH to the checkout")
    compileall.compile_dir(Path(spec.origin).parent, quiet=1)


def bench(layers: int, runs: int, names: list[str]) -> list[dict]:
    prefix, nodes = generate(layers)
    output = f"layer{layers // 2}/out"
    work = OUT / f"work-{layers}"
    chosen = {name: route for name, route in routes(prefix, output, work).items() if name in names}
    times: dict[str, list[float]] = {name: [] for name in chosen}
    peaks: dict[str, list[int]] = {name: [] for name in chosen}
    sizes: dict[str, int] = {}
    for _ in range(runs):
        for name, (args, produced) in chosen.items():
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            seconds, peak = run_measured(args, work)
            times[name].append(seconds)
            peaks[name].append(peak)
            sizes[name] = size_of(produced)
    return [{"route": name, "nodes": nodes, "seconds": statistics.median(times[name]),
             "peak_rss": statistics.median(peaks[name]), "output_bytes": sizes[name]} for name in chosen]


def default_routes(layers: int) -> list[str]:
    return list(ROUTES) if layers <= TF_ROUTES_UP_TO else ["graphsurgeon"]


def table(rows: list[dict]) -> str:
    gs = next((r for r in rows if r["route"] == "graphsurgeon"), rows[-1])
    lines = [f"| model nodes | route | median wall s | peak RSS MiB | output KiB | time / {gs['route']} "
             f"| RSS / {gs['route']} |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['nodes']} | {r['route']} | {r['seconds']:.2f} | {r['peak_rss'] / 2**20:.0f} | "
                     f"{r['output_bytes'] / 1024:.0f} | {r['seconds'] / gs['seconds']:.1f}x | "
                     f"{r['peak_rss'] / gs['peak_rss']:.1f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=textwrap.dedent(__doc__).split("\n\n")[0])
    parser.add_argument("--layers", type=int, nargs="+", default=[1800, 18000],
                        help="dense layers per generated model (55 nodes each); default 1800 and 18000 "
                             "(~100k and ~1M nodes)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--routes", nargs="+", choices=ROUTES,
                        help=f"routes to time at every size (default: all up to {TF_ROUTES_UP_TO} layers, "
                             "graphsurgeon alone above)")
    args = parser.parse_args()
    compile_graphsurgeon()
    results = {layers: bench(layers, args.runs, args.routes or default_routes(layers)) for layers in args.layers}
    for layers, rows in results.items():
        print(table(rows), end="\n\n")
    if len(results) == 2:
        small, large = (next(r for r in results[k] if r["route"] == "graphsurgeon") for k in sorted(results))
        print(f"graphsurgeon time({large['nodes']} nodes) / time({small['nodes']} nodes) = "
              f"{large['seconds'] / small['seconds']:.2f}; peak RSS at {large['nodes']} nodes: "
              f"{large['peak_rss'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
