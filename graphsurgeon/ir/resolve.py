"""The one resolver: a name the user typed -> the tensors it denotes, with "did you mean" on a miss.

A name is a node (``encoder/out``), a tensor (``IteratorGetNext:3``), or a
Keras layer of a traced Keras model (``lstm_1``; ``model@1`` for the second
call of a shared layer). graphsurgeon.plan resolves every name a Recipe holds
through one Resolver, once each, and the stages take the resulting
TensorRefs: nothing downstream looks a name up again. ``counting()`` lets a
test see every resolution that happens, TensorRefs included.
"""
from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar

from graphsurgeon.errors import NameNotFoundError, close_matches
from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.model import Layer, Model
from graphsurgeon.ir.types import output_dtypes
from graphsurgeon.names import TensorRef

CALL_SITE = "@"  # "model@1": call 1 (from 0) of a layer called more than once

_counts: ContextVar[Counter[str] | None] = ContextVar("graphsurgeon_resolutions", default=None)


@contextlib.contextmanager
def counting() -> Iterator[Counter[str]]:
    """Count every resolution made inside the block, by the name resolved (``str`` of a TensorRef too)."""
    counts: Counter[str] = Counter()
    token = _counts.set(counts)
    try:
        yield counts
    finally:
        _counts.reset(token)


class Resolver:
    """Resolves names against one model, each distinct name once (later asks reuse the answer)."""

    def __init__(self, model: Model):
        self.model = model
        self._known: dict[str | TensorRef, tuple[TensorRef, ...]] = {}

    def tensors(self, name: str | TensorRef, what: str) -> tuple[TensorRef, ...]:
        """Every tensor ``name`` denotes (a layer called twice denotes its outputs of both calls)."""
        key = name.strip() if isinstance(name, str) else name
        if key not in self._known:
            self._known[key] = resolve(self.model, key, what)
        return self._known[key]

    def tensor(self, name: str | TensorRef, what: str) -> TensorRef:
        """The one tensor ``name`` denotes; a name that denotes several is refused, listing them."""
        refs = self.tensors(name, what)
        if len(refs) != 1:
            listed = ", ".join(str(r) for r in refs)
            raise NameNotFoundError(f"{what} {str(name)!r} denotes {len(refs)} tensors ({listed}); name one of them "
                                    f"(NODE:PORT, or LAYER{CALL_SITE}CALL for one call of a shared layer)")
        return refs[0]

    def resolved(self) -> dict[str, tuple[TensorRef, ...]]:
        """Every name resolved so far -> its tensors (the names a Plan records)."""
        return {name: refs for name, refs in self._known.items() if isinstance(name, str)}

    def all(self, names: Iterable[str | TensorRef], what: str) -> tuple[TensorRef, ...]:
        """The tensors of every name, in order, once each."""
        return tuple(dict.fromkeys(ref for name in names for ref in self.tensors(name, what)))


def resolve(model: Model | Graph, name: str | TensorRef, what: str = "name") -> tuple[TensorRef, ...]:
    """The tensors ``name`` denotes in ``model`` (a Graph: nodes and tensors only), or NameNotFoundError."""
    counts = _counts.get()
    if counts is not None:
        counts[str(name)] += 1
    graph = model if isinstance(model, Graph) else model.graph
    layers: Mapping[str, Layer] = {} if isinstance(model, Graph) else model.layers
    if isinstance(name, TensorRef):
        return (_checked_port(graph, name, str(name), what),)
    text = name.strip()
    ref = TensorRef.parse(text)
    if ref.node in graph:
        return (_checked_port(graph, ref, text, what),)
    refs = _layer_tensors(layers, text, what)
    if refs is not None:
        return refs
    raise NameNotFoundError(f"{what} {text!r} is not in the graph{_suggest(graph, layers, text, ref)}")


def _checked_port(graph: Graph, ref: TensorRef, text: str, what: str) -> TensorRef:
    node = graph.get(ref.node)
    if node is None:
        raise NameNotFoundError(f"{what} {text!r} is not in the graph{_suggest(graph, {}, text, ref)}")
    ports = len(output_dtypes(node, graph))
    if ref.port >= ports:
        tensors = ", ".join(f"{ref.node}:{p} (tensor)" for p in range(ports)) or "none"
        raise NameNotFoundError(
            f"{what} {text!r}: node {ref.node!r} ({node.op}) has {ports} output(s); did you mean: {tensors}")
    return ref


def _layer_tensors(layers: Mapping[str, Layer], text: str, what: str) -> tuple[TensorRef, ...] | None:
    """A Keras layer's output tensors (every call's, or call K's for NAME@K), or None if no layer is named so."""
    name, sep, call = text.rpartition(CALL_SITE)
    if not sep or not call.isdigit():
        name, call = text, ""
    layer = layers.get(name)
    if layer is None:
        return None
    if call and int(call) >= len(layer.calls):
        raise NameNotFoundError(f"{what} {text!r}: layer {name!r} ({layer.class_name}) was called "
                                f"{len(layer.calls)} time(s); name a call from {name}{CALL_SITE}0 to "
                                f"{name}{CALL_SITE}{len(layer.calls) - 1}")
    refs = layer.calls[int(call)] if call else tuple(ref for outputs in layer.calls for ref in outputs)
    if not refs:  # a nested layer of a model loaded without tracing (inspect): its tensors exist once traced
        raise NameNotFoundError(f"{what} {text!r}: layer {name!r} ({layer.class_name}) has no tensors in a model "
                                "loaded without tracing; load it with trace=True (the default) to name it")
    return refs


def _suggest(graph: Graph, layers: Mapping[str, Layer], text: str, ref: TensorRef) -> str:
    spelled_as_tensor = ":" in text
    # A layer's output aliases (model/call1) are nodes too: the layer is suggested instead, once.
    aliases = {r.node for layer in layers.values() for outputs in layer.calls for r in outputs}
    shown = [f"{m}:{ref.port} (tensor)" if spelled_as_tensor else f"{m} (node)"
             for m in close_matches(ref.node, graph.names) if spelled_as_tensor or m not in aliases]
    shown += [f"{m} (layer)" for m in close_matches(text.partition(CALL_SITE)[0], layers)]
    if not shown:
        return "; run 'graphsurgeon inspect MODEL --all' to list candidate inputs and outputs"
    return "; did you mean: " + ", ".join(shown[:5])
