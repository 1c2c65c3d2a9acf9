"""What a TF2 SavedModel trace returns and refuses: shared by the loader and runtime.

Plain data and proto helpers, so the loader reads a trace's result without
importing TensorFlow (as keras_trace.py does for Keras 3 traces).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from graphsurgeon.errors import first_line


class Unflattenable(Exception):
    """A signature graphsurgeon will not flatten: ``reason`` is "composite inputs", "state updates",
    "side effects" (it writes or reads files, or pushes onto a queue or stack: ``names`` says which) or
    "captured resources" (its outputs read a resource, such as a lookup table, that freezing could not turn
    into constants; the loader finds those in the flattened graph)."""

    def __init__(self, reason: str, names: list[str]):
        super().__init__(reason)
        self.reason, self.names = reason, names


# ir.ops.side_effect, passed in by the loader (tf/ sits below ir/): (op, path fed) -> what it does, or None.
SideEffect = Callable[[str, bool], "str | None"]


class SavedModelLoadFailed(Exception):
    """TensorFlow's own loader refused the SavedModel (``cause`` is what it raised: an OpError for files it
    cannot read, or KeyError, ValueError, AttributeError, ... from its Python side for a damaged proto)."""

    def __init__(self, cause: BaseException):
        super().__init__(f"{type(cause).__name__}: {first_line(cause)}")
        self.cause = cause


TracedSignatures = dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]]  # key -> (inputs, outputs)


@dataclasses.dataclass(frozen=True)
class CapturedResource:
    """A resource a traced signature captured, which freezing leaves as a Placeholder.

    For a restored hash table, ``table`` is its creator's HashTableV2 NodeDef
    and ``initializer`` a GraphDef of its initializer frozen on its own: the
    table's handle a resource Placeholder, its keys and values (or its
    vocabulary file's path) constants. The loader rebuilds the table from them.
    """

    description: str
    table: Any = None
    initializer: Any = None


def nodes_and_function_nodes(graph_def: Any) -> list[Any]:
    return list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]


def what_resource(owner: Any) -> str:
    """"a lookup table (KIND)" when the restored object is or creates a hash table, else "a captured resource"."""
    kind = type(owner).__qualname__.rpartition("_Restored")[2] if owner is not None else ""
    if "HashTable" in kind:
        return f"a lookup table ({kind})"
    creator = getattr(owner, "_create_resource", None)
    if creator is not None and hasattr(creator, "concrete_functions"):
        ops = {n.op for c in creator.concrete_functions for n in nodes_and_function_nodes(c.graph.as_graph_def())}
        tables = sorted(op for op in ops if "HashTable" in op)
        if tables:
            return f"a lookup table ({tables[0]})"
    return "a captured resource"


def shared_placeholders(inputs: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], tuple[str, Any]]:
    """(signature key, input key) -> (placeholder name, spec): one placeholder per input key whose spec agrees."""
    specs: dict[str, set] = {}
    for by_key in inputs.values():
        for name, spec in by_key.items():
            specs.setdefault(name, set()).add((spec.dtype, tuple(spec.shape.as_list()) if spec.shape.rank is not None
                                               else None))
    return {(key, name): (name if len(specs[name]) == 1 else f"{key}_{name}", spec)
            for key, by_key in inputs.items() for name, spec in by_key.items()}


def side_effects(graph_def: Any, side_effect: SideEffect) -> list[str]:
    """"what it does (op)" for each op with a side effect in a signature's graph or the functions it calls.

    A restore op counts only when its path is not a constant of its own function: a path a request gives.
    """
    found = set()
    for nodes in [list(graph_def.node)] + [list(f.node_def) for f in graph_def.library.function]:
        constants = {n.name for n in nodes if n.op == "Const"}
        for node in nodes:
            path = node.input[0].split(":")[0] if node.input else ""
            why = side_effect(node.op, path not in constants)
            if why:
                found.add(f"{why} ({node.op})")
    return sorted(found)
