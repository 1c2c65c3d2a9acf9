"""--replace-layer for Keras 3 sources (.keras archives and Keras 3 .h5): the config, the weights, the errors.

loaders/keras/replace.py rewrites each replaced layer's config into a Lambda that
looks the user's function up by name, dropping the stored bytecode unread.
What is particular to Keras 3 is here: a replacement has no weights, so the
weights the file holds for a replaced layer are left out of the trace; and a
.keras archive names its weight groups by class and position (dense,
dense_1, ...), so a layer that stops being a Dense renumbers the Dense layers
after it, and their groups are moved to the names Keras will look for.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphsurgeon.loaders.keras.config import layer_group_paths
from graphsurgeon.loaders.keras.replace import replace_layers


@dataclass(frozen=True)
class Replaced:
    """A Keras 3 config with layers replaced (none, without --replace-layer), and the custom objects it needs."""

    config: dict
    custom_objects: dict[str, Any]
    functions: Mapping[str, Callable]  # layer name -> the user's function

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(sorted(self.functions))

    def archive_groups(self, original: dict, groups: Mapping[str, dict]) -> dict[str, dict]:
        """A .keras archive's weight groups under the paths Keras will ask for in the rewritten model."""
        if not self.functions:
            return dict(groups)
        before, after = layer_group_paths(original), layer_group_paths(self.config)
        moved = {before[key]: after[key] for key in before if key in after and key[-1] not in self.functions}
        kept = {path: group for path, group in groups.items() if path not in set(before.values())}
        kept.update({moved[path]: group for path, group in groups.items() if path in moved})
        return kept

    def h5_weights(self, weights: Mapping[str, list]) -> dict[str, list]:
        """A Keras 3 .h5 file's weights by layer name, with none for the replaced layers."""
        return {layer: [] if layer in self.functions else entries for layer, entries in weights.items()}

    def failure(self, path: Path, where: str, reason: str) -> str:
        """One line: tracing with the replacements failed; names the layers, the functions and the reason."""
        uses = ", ".join(f"layer {name!r} by {describe(self.functions[name])}" for name in self.layers)
        return (f"{path}: Keras 3 could not trace the model with {uses} (--replace-layer): {where}{reason}; "
                "the function must take what the layer took and return what it returned (same shape and dtype)")


def replaced(config: dict, functions: Mapping[str, Callable], custom_objects: Mapping[str, Any]) -> Replaced:
    """``config`` with the layers named in ``functions`` made Lambdas calling them (an unknown name is an error)."""
    if not functions:
        return Replaced(config, dict(custom_objects), {})
    rewritten, stand_ins = replace_layers(config, functions, flavor="keras3")
    return Replaced(rewritten, {**custom_objects, **stand_ins}, dict(functions))


def describe(function: Callable) -> str:
    """file.py:function, as the user wrote it on the command line (or the object's repr, for other callables)."""
    code = getattr(function, "__code__", None)
    if code is None:
        return repr(function)
    return f"{Path(code.co_filename).name}:{getattr(function, '__name__', '?')}"
