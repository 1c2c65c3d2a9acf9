"""Keras masks a cut leaves behind: an output that is a layer's output whose mask later layers read.

Keras carries a mask (which time steps are padding) beside a layer's output,
and mask-reading layers after it (an RNN, attention) use it. Exporting that
output alone exports the values without the mask, so whatever is fed those
values next treats padding as data. The loader records such masks in
Layer.mask (loaders/keras/model_layers.py); a cut keeps the mask by
exporting it as an output too.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

from graphsurgeon.ir.model import Model
from graphsurgeon.names import TensorRef

log = logging.getLogger(__name__)


def dropped_masks(model: Model, outputs: Sequence[TensorRef]) -> list[str]:
    """One message per output that carries a Keras mask later layers read, when the mask is not an output too."""
    graph = model.graph
    exported = {graph.source(ref) for ref in outputs}
    messages = []
    for layer in model.layers.values():
        for k, (tensors, mask) in enumerate(zip(layer.calls, layer.mask)):
            cut_here = [ref for ref in tensors if graph.source(ref) in exported]
            if mask is None or not cut_here or graph.source(mask) in exported:
                continue
            call = f"{layer.name}@{k}" if len(layer.calls) > 1 else layer.name
            messages.append(
                f"output {cut_here[0]} is layer {call!r} ({layer.class_name}), whose Keras mask {mask} later "
                f"layers read; the cut leaves the mask out, so a model fed this output treats padding as data. "
                f"To keep it, export the mask as a second output: add {mask.as_input()} to --outputs")
    return messages


def warn_dropped_masks(model: Model, outputs: Sequence[TensorRef]) -> None:
    for message in dropped_masks(model, outputs):
        log.warning(message)
