"""The function library a graph still needs, after a cut removed the nodes that called the rest.

Functions are reached from nodes three ways: a node whose op is a function's
name, a ``func`` attr (While/If bodies, PartitionedCall's ``f``), and a list
of ``func`` attrs (Case branches). Function bodies call further functions the
same ways, so the walk continues through them.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from graphsurgeon.ir.graph import Graph


def prune_library(graph: Graph) -> Graph:
    """``graph`` with only the library functions its nodes reach (a copy; the input is unchanged)."""
    library = graph.library
    if library is None or not library.function:
        return graph
    by_name = {f.signature.name: f for f in library.function}
    used = _reachable(by_name, _called(((n.op, n.attrs) for n in graph), by_name))
    if len(used) == len(by_name):
        return graph
    pruned = type(library)()
    pruned.function.extend(f for f in library.function if f.signature.name in used)
    pruned.gradient.extend(g for g in library.gradient if g.function_name in used)
    # registered_gradients (name -> gradient op type) refer to ops, not functions: keep them.
    if hasattr(pruned, "registered_gradients"):
        pruned.registered_gradients.extend(library.registered_gradients)
    return Graph(graph, library=pruned, versions=graph.versions)


def _reachable(by_name: dict[str, Any], roots: Iterable[str]) -> set[str]:
    used: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in used:
            continue
        used.add(name)
        body = by_name[name]
        stack.extend(_called(((n.op, n.attr) for n in body.node_def), by_name))
    return used


def _called(ops_and_attrs: Iterable[tuple[str, Any]], by_name: dict[str, Any]) -> Iterator[str]:
    for op, attrs in ops_and_attrs:
        if op in by_name:
            yield op
        for value in attrs.values():
            if value.HasField("func") and value.func.name in by_name:
                yield value.func.name
            elif value.HasField("list"):
                yield from (f.name for f in value.list.func if f.name in by_name)
