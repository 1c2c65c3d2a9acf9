"""What every layer of a Keras model returned while it was traced: for tf_keras and Keras 3 alike.

Duck-typed (it imports neither Keras): both Keras versions give models a
``layers`` list, layers a ``call`` method Keras's ``__call__`` looks up on the
instance, and set a returned tensor's Keras mask as ``_keras_mask``. Every
layer's ``call`` is wrapped before the model is called, so each call site of
a shared layer (a sub-model called three times) is recorded in call order,
including layers deep inside nested models that no model output depends on.
Layers inside wrappers (Bidirectional, TimeDistributed) and RNN cells are not
walked: they run on reshaped tensors or inside loops. Masks are read after the
whole model ran, as Keras sets them when ``call`` has returned.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LayerCalls:
    """One layer's traced calls: ``path`` is the names of its enclosing models, then its own (the top model left out).

    ``calls`` holds each call's output tensors as (tensor name, dtype enum) in the
    returned graph, ``masks`` each call's Keras mask the same way (None: no mask),
    ``masked`` whether each call was given a mask (a layer that reads masks: RNNs, attention).
    """

    path: tuple[str, ...]
    class_name: str
    calls: tuple[tuple[tuple[str, int], ...], ...]
    masks: tuple[tuple[str, int] | None, ...] = ()
    masked: tuple[bool, ...] = ()


@dataclass
class _Recorded:
    path: tuple[str, ...]
    layer: Any
    results: list = field(default_factory=list)  # per call: (what it returned, whether it was given a mask)


class LayerRecorder:
    """Wraps the ``call`` of every layer of ``model`` (nested models too) to record what each call returned.

    ``tensor_type`` is TensorFlow's Tensor: what a call returned is kept where it is
    one (sparse and ragged results have no single tensor to name).
    """

    def __init__(self, model: Any, tensor_type: type):
        self._tensor_type: Any = tensor_type  # Any: mypy cannot see the attributes of what it narrows to
        self._recorded: list[_Recorded] = []
        seen: set[int] = set()
        pending: list[tuple[Any, tuple[str, ...]]] = [(model, ())]
        while pending:  # breadth first: a layer shared by two sub-models gets its shortest path
            parent, prefix = pending.pop(0)
            for layer in getattr(parent, "layers", None) or []:
                if id(layer) in seen:
                    continue
                seen.add(id(layer))
                entry = _Recorded((*prefix, layer.name), layer)
                self._recorded.append(entry)
                layer.call = _recording(layer.call, entry.results)
                if isinstance(getattr(layer, "layers", None), list):
                    pending.append((layer, entry.path))

    def tensors(self, graph: Any) -> list[Any]:
        """Every recorded output and mask tensor that lives in ``graph`` (not in a loop body), once each, in order."""
        found: dict[int, Any] = {}
        for entry in self._recorded:
            for result, _ in entry.results:
                for tensor in self._flat_tensors(result, graph):
                    found.setdefault(id(tensor), tensor)
                    mask = self._mask(tensor, graph)
                    if mask is not None:
                        found.setdefault(id(mask), mask)
        return list(found.values())

    def layers(self, graph: Any, name_of: Callable[[Any], str]) -> list[LayerCalls]:
        """The layers called in ``graph``, with ``name_of(tensor)`` naming each tensor as the returned graph has it."""
        layers = []
        for entry in self._recorded:
            calls = [(self._flat_tensors(result, graph), masked) for result, masked in entry.results]
            calls = [(tensors, masked) for tensors, masked in calls if tensors]
            if not calls:
                continue  # an input layer (never called), or only called inside a loop
            masks = [self._mask(tensors[0], graph) for tensors, _ in calls]
            layers.append(LayerCalls(
                entry.path, type(entry.layer).__name__,
                tuple(tuple((name_of(t), t.dtype.as_datatype_enum) for t in tensors) for tensors, _ in calls),
                tuple(None if m is None else (name_of(m), m.dtype.as_datatype_enum) for m in masks),
                tuple(masked for _, masked in calls)))
        return layers

    def _flat_tensors(self, result: Any, graph: Any) -> list[Any]:
        """The tensors a call returned, in order (nested lists, tuples and dicts flattened), that live in ``graph``."""
        found, pending = [], [result]
        while pending:
            item = pending.pop(0)
            if isinstance(item, (list, tuple)):
                pending[:0] = list(item)
            elif isinstance(item, dict):
                pending[:0] = [item[key] for key in sorted(item)]
            elif isinstance(item, self._tensor_type) and item.graph is graph:
                found.append(item)
        return found

    def _mask(self, tensor: Any, graph: Any) -> Any:
        mask = getattr(tensor, "_keras_mask", None)
        return mask if isinstance(mask, self._tensor_type) and mask.graph is graph else None


def _recording(call: Callable, results: list) -> Callable:
    @functools.wraps(call)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        result = call(*args, **kwargs)
        results.append((result, kwargs.get("mask") is not None))
        return result

    return recorded


