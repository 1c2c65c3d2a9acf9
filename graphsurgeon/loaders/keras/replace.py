"""--replace-layer NAME=module.py:function: a user's Python function stands in for a layer while tracing.

A Lambda layer stores its function as marshalled Python bytecode; loading it
runs code from the file (and bytecode from another Python version often does
not even load: "bad marshal data"). Instead, the layer's config is rewritten,
before any Keras code sees it, into a Lambda whose function is looked up by
name among the custom objects, where the user's function is. The stored
bytecode is dropped from the config unread. Any layer can be replaced this way
(a replacement has no weights of its own).

This module reads and rewrites configs only (no Keras import), so the Keras 2
.h5 loader and the Keras 3 loaders share it; ``flavor`` says which Lambda
config to write (keras3_replace.py has what is particular to Keras 3).
"""
from __future__ import annotations

import copy
import importlib.util
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphsurgeon.errors import LoadError, UsageError, close_matches
from graphsurgeon.tf import runtime

REGISTERED_PREFIX = "graphsurgeon_replacement_"  # the custom-object name each function is registered under
NOT_LAYERS = frozenset({"DTypePolicy", "FloatDTypePolicy", "Policy"})  # named configs that are not layers


@dataclass(frozen=True)
class LayerReplacement:
    """One --replace-layer: layer NAME is computed by ``function`` from the Python file ``module``."""

    layer: str
    module: str
    function: str

    @classmethod
    def parse(cls, text: str) -> LayerReplacement:
        layer, sep, target = text.partition("=")
        module, colon, function = target.rpartition(":")
        if not sep or not layer or not colon or not module or not function.isidentifier():
            raise UsageError(f"cannot parse --replace-layer {text!r}: write NAME=module.py:function, "
                             "e.g. lambda=distance.py:abs_difference")
        return cls(layer, module, function)


def replacement_functions(texts: Iterable[str]) -> dict[str, Callable]:
    """Layer name -> the user's function, for each --replace-layer NAME=module.py:function (the user's own code)."""
    functions: dict[str, Callable] = {}
    for replacement in (LayerReplacement.parse(text) for text in texts):
        if replacement.layer in functions:
            raise UsageError(f"--replace-layer names layer {replacement.layer!r} twice; give one function per layer")
        functions[replacement.layer] = _load_function(replacement)
    return functions


def _load_function(replacement: LayerReplacement) -> Callable:
    path = Path(replacement.module)
    if not path.is_file():
        raise UsageError(f"--replace-layer {replacement.layer}: no such file {path}; give a Python file")
    spec = importlib.util.spec_from_file_location(f"graphsurgeon_replace_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise UsageError(f"--replace-layer {replacement.layer}: cannot import {path}; give a Python file")
    module = importlib.util.module_from_spec(spec)
    with runtime.quiet_native_logs():  # the module may import TensorFlow, and with it its C++ start-up lines
        spec.loader.exec_module(module)
    function = getattr(module, replacement.function, None)
    if not callable(function):
        near = close_matches(replacement.function, [n for n, v in vars(module).items() if callable(v)])
        raise UsageError(f"--replace-layer {replacement.layer}: {path} defines no function {replacement.function!r}"
                         + (f" (did you mean {near[0]!r}?)" if near else ""))
    return function


def replace_layers(config: Mapping[str, Any], functions: Mapping[str, Callable],
                   flavor: str = "keras2") -> tuple[dict[str, Any], dict[str, Callable]]:
    """A copy of a Keras model ``config`` whose layers named in ``functions`` are Lambdas calling them.

    Returns (the rewritten config, custom objects to give Keras with it). ``flavor``
    is "keras2" (tf_keras, .h5) or "keras3" (Keras 3 .keras/.h5). Nested models
    (a Sequential inside a functional model) are searched too. A name that is
    not a layer of the model is an error naming the closest layers.
    """
    rewritten = copy.deepcopy(dict(config))
    found: set[str] = set()
    for layer in layer_dicts(rewritten):
        name = layer["config"].get("name")
        if name in functions:
            _make_lambda(layer, name, flavor)
            found.add(name)
    missing = sorted(set(functions) - found)
    if missing:
        names = [layer["config"].get("name", "") for layer in layer_dicts(rewritten)]
        near = close_matches(missing[0], names)
        raise LoadError(f"--replace-layer {missing[0]}: the model has no layer {missing[0]!r}"
                        + (f" (did you mean {near[0]!r}?)" if near else "")
                        + "; `graphsurgeon inspect MODEL` lists its layers")
    return rewritten, {REGISTERED_PREFIX + name: functions[name] for name in sorted(found)}


def _make_lambda(layer: dict[str, Any], name: str, flavor: str) -> None:
    """Rewrite one layer dict in place into a Lambda that looks its function up by name (no bytecode)."""
    old = layer["config"]
    kept = {key: old[key] for key in ("name", "trainable", "dtype") if key in old}
    function = REGISTERED_PREFIX + name
    layer["class_name"] = "Lambda"
    if flavor == "keras3":
        layer["module"] = "keras.layers"
        layer["registered_name"] = None
        layer["config"] = {**kept, "function": function, "arguments": {}}
        layer.pop("build_config", None)
    else:
        layer["config"] = {**kept, "function": function, "function_type": "function", "module": None,
                           "output_shape": None, "output_shape_type": "raw", "output_shape_module": None,
                           "arguments": {}}


def layer_dicts(config: Any) -> list[dict[str, Any]]:
    """Every layer dict (class_name + config) in a possibly nested Keras config, iteratively, in file order."""
    found, stack = [], [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "class_name" in item and isinstance(item.get("config"), dict) and item["class_name"] not in NOT_LAYERS:
                found.append(item)
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found
