"""The package's import direction (STYLE.md): every import points down the layers, and no two layers import each other.

    errors, names, defaults           (the vocabulary every layer speaks)
      -> formats                       (DataType table, tensor-bundle format, .npz, size limits, SavedModel layout)
      -> tf                            (the one package importing tensorflow or keras)
      -> ir
      -> loaders | surgery             (neither imports the other: importers -> IR <- stages)
      -> recipe -> plan -> record      (what a run will do, decided once)
      -> exporters
      -> pipeline                      (export(): plan, stages, exporters, record)
      -> audit | verify                (neither imports the other)
      -> cli -> graphsurgeon/__init__, __main__

There are no exceptions: a unit imports only units of lower rank. Imports are
read from the source with ast (lazy imports inside functions count too), so a
cycle fails here even if Python happens to import it in a good order.
"""
from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import graphsurgeon

PACKAGE = Path(graphsurgeon.__file__).parent
# unit -> rank: a unit may import units of lower rank only (or itself).
LAYERS: dict[str, float] = {
    "errors": 0, "names": 0.1, "defaults": 0.1,
    "formats": 0.5,
    "tf": 0.7,
    "ir": 1,
    "loaders": 2, "surgery": 2,
    "recipe": 2.2, "plan": 2.4, "record": 2.6,
    "exporters": 3,
    "pipeline": 3.5,
    "audit": 4, "verify": 4,
    "cli": 5,
    "__init__": 6, "__main__": 6,
}
# Layers that are independent of each other (same rank) are allowed no import either way.


def _unit(module: str) -> str:
    """'graphsurgeon.surgery.cut' -> 'surgery'; 'graphsurgeon' -> '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path) -> set[str]:
    """Every graphsurgeon module ``path`` imports, resolving relative and 'from graphsurgeon import x' forms."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names
                      if (PACKAGE.parent / Path(*f"{base}.{alias.name}".split("."))).exists()
                      or (PACKAGE.parent / Path(*f"{base}.{alias.name}".split("."))).with_suffix(".py").exists()}
    return {m for m in found if m == "graphsurgeon" or m.startswith("graphsurgeon.")}


@functools.lru_cache(maxsize=1)
def _unit_edges() -> dict[tuple[str, str], list[str]]:
    """(importer unit, imported unit) -> the files that make that import."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _unit(_module_name(path))
        for imported in _imported_modules(path):
            target = _unit(imported)
            if target != importer and not (imported == "graphsurgeon" and importer != "__main__"):
                edges.setdefault((importer, target), []).append(str(path.relative_to(PACKAGE.parent)))
    return edges


def test_every_unit_has_a_layer():
    units = {_unit(_module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert not units - set(LAYERS), f"add these to LAYERS in tests/test_layering.py: {sorted(units - set(LAYERS))}"


def test_imports_point_down_the_layers():
    upward = [f"{a} -> {b} ({', '.join(sorted(set(files)))})" for (a, b), files in sorted(_unit_edges().items())
              if LAYERS.get(b, 99) >= LAYERS.get(a, 99)]
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_no_package_cycles():
    try:
        cycle = nx.find_cycle(nx.DiGraph(list(_unit_edges())))
    except nx.NetworkXNoCycle:
        return
    pytest.fail(f"package cycle: {cycle}")


def test_surgery_never_imports_loaders():
    files = _unit_edges().get(("surgery", "loaders"), [])
    assert not files, f"surgery imports loaders in {sorted(set(files))}"


def test_the_checker_sees_every_import_form():
    """The parser must see 'from graphsurgeon.tf import runtime' and 'from graphsurgeon import defaults', or the
    tests above prove nothing: each edge below exists in today's code."""
    edges = _unit_edges()
    assert ("ir", "tf") in edges  # ir.types: from graphsurgeon.tf import runtime
    assert ("exporters", "defaults") in edges  # exporters/saved_model: from graphsurgeon import defaults
    assert ("exporters", "ir") in edges


@pytest.mark.parametrize("unit", sorted(set(LAYERS) - {"__init__", "__main__"}))
def test_importing_a_unit_imports_neither_tensorflow_nor_keras(unit):
    """TensorFlow takes seconds to import: every unit, graphsurgeon.tf included, imports it on first use only.
    A fresh interpreter, since this test session has imported TensorFlow long ago."""
    code = (f"import sys, graphsurgeon.{unit}; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'tf_keras') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"import graphsurgeon.{unit} imported {result.stdout.strip()}"


def test_tensorflow_is_imported_by_one_module():
    """`import tensorflow` lives in tf/runtime.py; other modules of tf/ get TensorFlow's pieces from it."""
    importers = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            if any(n == "tensorflow" or n.startswith("tensorflow.") for n in names):
                importers.add(path.relative_to(PACKAGE).as_posix())
    assert importers == {"tf/runtime.py"}
