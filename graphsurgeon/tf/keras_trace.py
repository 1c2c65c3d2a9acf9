"""What Keras traces take and give: shared by the loaders, runtime and keras3_trace.

Plain data, so the loader can build a request without importing Keras or TensorFlow.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from graphsurgeon.tf.layer_calls import LayerCalls


class KerasTraceError(Exception):
    """Keras 3 could not rebuild or load a model: ``layer`` (or "") is where, the message why."""

    def __init__(self, layer: str, reason: str):
        super().__init__(reason)
        self.layer = layer


@dataclasses.dataclass(frozen=True)
class KerasTraceRequest:
    """What tracing a Keras 3 model needs (see keras3_trace.trace): all decided by the loader, from the file alone.

    ``inputs`` are (name, dtype, shape) of the placeholders fed to the model in
    order; ``outputs`` name its outputs in order. ``weights`` indexes the weights
    file: for a .keras archive {layer path: {index: entry}}, for a legacy .h5
    {layer name: [entry, ...]}, each entry (placeholder name, weights key, dtype, shape).
    ``replaced`` names the layers whose config calls a function the user supplied (--replace-layer).
    """

    config: dict
    inputs: Sequence[tuple[str, str, list]]
    outputs: Sequence[str]
    weights: Mapping[str, Any]
    legacy_h5: bool
    assets_dir: str | None
    custom_objects: Mapping[str, Any]
    unsafe_lambda: bool
    replaced: Sequence[str] = ()  # layers --replace-layer gave the user's functions: their errors are the user's


@dataclasses.dataclass(frozen=True)
class KerasTrace:
    """A tf_keras model traced and frozen: its GraphDef, the input placeholders' names, (output layer, tensor
    name) pairs, {frozen constant's node name: variable name} (for reading those values lazily from the .h5
    file instead) and every layer's calls (see layer_calls.py)."""

    graph_def: Any
    inputs: list[str]
    outputs: list[tuple[str, str]]
    constants: dict[str, str]
    layers: list[LayerCalls]
