"""Cut ~100,000- and ~1,000,000-node TF1 checkpoint graphs three ways, in one run, and compare.

    python bench/wide_cut.py                          # 100k nodes (every route) and 1M (graphsurgeon), 3 runs each
    python bench/wide_cut.py --layers 180 --runs 1    # ~10k nodes, quick
    python bench/wide_cut.py --layers 18000 --routes careful graphsurgeon

Routes, each in a fresh subprocess (wall time, CPU time and peak RSS of that process):
  recipe    TensorFlow's: import_meta_graph + restore + convert_variables_to_constants
            + extract_sub_graph + remove_training_nodes, write .pb
  careful   the best TensorFlow route: parse the .meta, extract_sub_graph, import it,
            restore only the kept variables, save a SavedModel with variables
  gs        graphsurgeon cut CKPT --inputs x --outputs OUT -o cut.pb

The model (bench/wide_model.py): a stack of dense+tanh layers trained one step
with Adam (so there are gradients, slots and a saver), cut from the input to a
middle layer. Each run times every route at every size once, so load that
changes during the runs weighs on all alike. Above TF_ROUTES_UP_TO layers only
graphsurgeon runs unless --routes names others: TensorFlow's recipe imports the
whole graph, which at 1M nodes needs more memory than this machine can spare.
"""
from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from routes import CAREFUL, FREEZE, measured_usage
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


def run_measured(args: list[str], cwd: Path) -> tuple[float, int, float]:
    seconds, peak, cpu, ok = measured_usage(args, cwd)
    if not ok:
        raise SystemExit(f"failed: {' '.join(args)}")
    return seconds, peak, cpu


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


@dataclass
class Route:
    """One route at one size and what its runs measured."""

    nodes: int
    name: str
    args: list[str]
    work: Path
    produced: Path
    seconds: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    output_bytes: int = 0

    def run(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        seconds, peak, cpu = run_measured(self.args, self.work)
        self.seconds.append(seconds)
        self.peaks.append(peak)
        self.cpu.append(cpu)
        self.output_bytes = size_of(self.produced)

    def row(self) -> dict:
        return {"route": self.name, "nodes": self.nodes, "seconds": statistics.median(self.seconds),
                "cpu": statistics.median(self.cpu), "peak_rss": statistics.median(self.peaks),
                "output_bytes": self.output_bytes}


def chosen_routes(layers: int, names: list[str]) -> list[Route]:
    prefix, nodes = generate(layers)
    work = OUT / f"work-{layers}"
    return [Route(nodes, name, args, work, produced)
            for name, (args, produced) in routes(prefix, f"layer{layers // 2}/out", work).items() if name in names]


def bench(sizes: dict[int, list[str]], runs: int) -> dict[int, list[dict]]:
    """Each run times every route at every size once, so that load that comes and goes weighs on all."""
    chosen = {layers: chosen_routes(layers, names) for layers, names in sizes.items()}
    for _ in range(runs):
        for layer_routes in chosen.values():
            for route in layer_routes:
                route.run()
    return {layers: [route.row() for route in layer_routes] for layers, layer_routes in chosen.items()}


def default_routes(layers: int) -> list[str]:
    return list(ROUTES) if layers <= TF_ROUTES_UP_TO else ["graphsurgeon"]


def table(rows: list[dict]) -> str:
    gs = next((r for r in rows if r["route"] == "graphsurgeon"), rows[-1])
    lines = [f"| model nodes | route | median wall s | median CPU s | peak RSS MiB | output KiB | time / {gs['route']} "
             f"| RSS / {gs['route']} |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['nodes']} | {r['route']} | {r['seconds']:.2f} | {r['cpu']:.2f} | "
                     f"{r['peak_rss'] / 2**20:.0f} | {r['output_bytes'] / 1024:.0f} | "
                     f"{r['seconds'] / gs['seconds']:.1f}x | {r['peak_rss'] / gs['peak_rss']:.1f}x |")
    return "\n".join(lines)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


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
    before = load_average()
    results = bench({layers: args.routes or default_routes(layers) for layers in args.layers}, args.runs)
    print(f"load average (1, 5, 15 min) before: {before}; after: {load_average()}; {os.cpu_count()} cores\n")
    for layers, rows in results.items():
        print(table(rows), end="\n\n")
    if len(results) == 2:
        small, large = (next(r for r in results[k] if r["route"] == "graphsurgeon") for k in sorted(results))
        print(f"graphsurgeon time({large['nodes']} nodes) / time({small['nodes']} nodes) = "
              f"{large['seconds'] / small['seconds']:.2f} wall, {large['cpu'] / small['cpu']:.2f} CPU; "
              f"peak RSS at {large['nodes']} nodes: {large['peak_rss'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
