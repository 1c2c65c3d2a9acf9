"""What Keras traces take and give, the error a trace raises, and which layer's code failed: shared by the
loaders, runtime and keras3_trace.

Plain data, so the loader can build a request without importing Keras or TensorFlow.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from graphsurgeon.tf.layer_calls import LayerCalls


# The fix when code --unsafe-lambda let run fails (a Lambda that needs globals of the script that saved it, say).
UNSAFE_CODE_FAILED = ("the file's own code, which --unsafe-lambda runs as stored, may need names it does not "
                      "carry: supply the function with --replace-layer {layer}=module.py:function")


def failing_layer(err: BaseException) -> str:
    """The innermost Keras layer (tf_keras or Keras 3) whose method was running when ``err`` or its cause was raised.

    Read from the tracebacks' frames (their ``self``), so it names the layer
    even when Keras wraps the error in one of its own; "" when no layer was.
    """
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names = [owner.name for owner in _frame_owners(current) if _is_keras_layer(owner)]
        if names:
            return str(names[-1])
        current = current.__cause__ or current.__context__
    return ""


def code_failure_reason(err: BaseException) -> str:
    """Why code run while tracing failed, in one line: the error itself, not the ones Keras wraps it in.

    Keras 3's Lambda turns any error in its function into "could not automatically infer the shape" (a
    NotImplementedError), and both Kerases re-raise an error in a layer's call as a new one of its class whose
    message starts "Exception encountered when calling"; in both, the original is the new one's __context__.
    """
    while err.__context__ is not None and (isinstance(err, NotImplementedError)
                                           or str(err).startswith("Exception encountered when calling")):
        err = err.__context__
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return f"{type(err).__name__}: {lines[0] if lines else type(err).__name__}"


def _frame_owners(err: BaseException) -> list[Any]:
    owners, tb = [], err.__traceback__
    while tb is not None:
        owners.append(tb.tb_frame.f_locals.get("self"))
        tb = tb.tb_next
    return owners


def _is_keras_layer(owner: Any) -> bool:
    return isinstance(getattr(owner, "name", None), str) and any(
        cls.__name__ == "Layer" and cls.__module__.split(".")[0] in ("keras", "tf_keras")
        for cls in type(owner).__mro__)


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
