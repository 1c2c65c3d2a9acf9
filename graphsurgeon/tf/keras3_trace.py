"""Keras 3 tracing, owned by runtime.py (which imports it lazily): the only module that imports keras.

The model is rebuilt from its config inside a TF1 graph and a Keras
StatelessScope, so no variable is ever given a value: Keras defers every
initializer. Instead of reading the weights file, each weight Keras asks for
becomes a Placeholder named after its weights key, recorded as that
variable's value in the scope. Calling the model with training=False then
builds the inference graph over those placeholders; the caller replaces them
with constants read lazily from the file. No weight bytes are read here.
"""
from __future__ import annotations

import contextlib
import copy
import os
import warnings
from collections.abc import Iterator, KeysView, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

os.environ["KERAS_BACKEND"] = "tensorflow"  # graphsurgeon builds TensorFlow graphs, whatever the user's default

import keras  # noqa: E402
from keras.src.backend.common.stateless_scope import StatelessScope  # noqa: E402
from keras.src.layers.preprocessing.index_lookup import IndexLookup  # noqa: E402
from keras.src.legacy.saving import saving_utils  # noqa: E402
from keras.src.saving import object_registration, saving_lib, serialization_lib  # noqa: E402

from graphsurgeon.tf.keras_trace import (  # noqa: E402
    UNSAFE_CODE_FAILED,
    KerasTraceError,
    KerasTraceRequest,
    code_failure_reason,
    failing_layer,
)
from graphsurgeon.tf.layer_calls import LayerCalls, LayerRecorder  # noqa: E402


@dataclass
class Trace:
    graph_def: Any
    weights: dict[str, str] = field(default_factory=dict)  # placeholder node -> weights key
    outputs: list[str] = field(default_factory=list)  # output alias node names, in order
    table_inits: list[str] = field(default_factory=list)  # table initializer nodes Keras created
    layers: list[LayerCalls] = field(default_factory=list)  # every layer's calls, as layer_calls.py records them

KERAS_SCOPE = "keras"


class _PlaceholderStore(saving_lib.H5IOStore):
    """An H5IOStore that answers with placeholders for the weights it indexes instead of reading them.

    ``groups`` maps a layer's normalised path to {variable index: (placeholder name, key, dtype, shape)}.
    """

    def __init__(self, tf: Any, groups: Mapping[str, Mapping[str, tuple]], made: dict[str, str]):
        self._tf, self._groups, self._made = tf, groups, made
        self.mode, self.archive, self.io_file = "r", None, None
        self._h5_entry_path: str | None = None
        self._h5_entry_group: Mapping[str, tuple] = {}

    def __bool__(self) -> bool:
        return True

    def get(self, path: str) -> "_PlaceholderStore":
        path = path.strip("/")
        self._h5_entry_path = path
        self._h5_entry_group = self._groups.get(path) or self._groups.get(
            path.replace("layers", "_layer_checkpoint_dependencies"), {})
        return self

    def has_path(self, path: str) -> bool:
        return path.strip("/") in self._groups

    def keys(self) -> KeysView[str]:
        return self._h5_entry_group.keys()

    def __len__(self) -> int:
        return len(self._h5_entry_group)

    def __contains__(self, key: object) -> bool:
        return key in self._h5_entry_group

    def __getitem__(self, key: str) -> Any:
        return _placeholder(self._tf, self._h5_entry_group[key], self._made)

    def close(self) -> None:
        pass


def _placeholder(tf: Any, entry: tuple, made: dict[str, str]) -> Any:
    name, key, dtype, shape = entry
    with tf.compat.v1.get_default_graph().name_scope(None):  # a name at the top level, not in a layer scope
        tensor = tf.compat.v1.placeholder(dtype, shape, name=name)
    made[tensor.op.name] = key
    return tensor


def trace(tf: Any, request: KerasTraceRequest) -> Trace:
    """Rebuild, load (as placeholders) and call the model; see the module docstring."""
    # Auto-generated layer names (dense_1, ...) locate a subclassed model's weights in the file; a fresh
    # session numbers them as the process that saved the model did.
    keras.backend.clear_session()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about optimizer state and containers it skips: not ours
        try:
            return _trace_in(tf, tf.Graph(), request)
        except KerasTraceError:
            raise
        except Exception as err:  # noqa: BLE001 - the user's own functions (--replace-layer) can raise anything
            if request.replaced:
                raise KerasTraceError("", code_failure_reason(err)) from err
            layer = failing_layer(err) if request.unsafe_lambda else ""  # code from the file ran, and failed
            if not layer:
                raise
            raise KerasTraceError(layer, f"{code_failure_reason(err)}; {UNSAFE_CODE_FAILED.format(layer=layer)}") \
                from err


def _trace_in(tf: Any, graph: Any, request: KerasTraceRequest) -> Trace:
    made: dict[str, str] = {}
    with graph.as_default(), StatelessScope(initialize_variables=False), \
            object_registration.CustomObjectScope(dict(request.custom_objects)), \
            serialization_lib.SafeModeScope(not request.unsafe_lambda), _static_vocabulary_sizes():
        feeds = [tf.compat.v1.placeholder(dtype, shape, name=name) for name, dtype, shape in request.inputs]
        with graph.name_scope(KERAS_SCOPE):  # Keras's own names stay clear of the input and output names
            model = _model(request.config, request.legacy_h5)
            if request.legacy_h5:
                _assign_legacy(tf, model, request.weights, made)
            else:
                _load_state(tf, model, request.weights, request.assets_dir, made)
            recorder = LayerRecorder(model, tf.Tensor)
            results = model(feeds if len(feeds) > 1 else feeds[0], training=False)
        outputs = request.outputs
        aliases = [tf.identity(tensor, name=name) for name, tensor in zip(outputs, _flat(results, outputs))]
        table_inits = [op.name for op in graph.get_collection(tf.compat.v1.GraphKeys.TABLE_INITIALIZERS)]
    clashes = [a.op.name for a, name in zip(aliases, outputs) if a.op.name != name]
    if clashes:
        raise KerasTraceError("", f"output names {list(outputs)} clash with node names Keras chose ({clashes})")
    layers = recorder.layers(graph, lambda tensor: tensor.name)
    return Trace(graph.as_graph_def(), made, [a.op.name for a in aliases], table_inits, layers)


def _model(config: dict, legacy_h5: bool) -> Any:
    try:
        if legacy_h5:  # Keras consumes the dicts it deserializes: it gets copies
            return saving_utils.model_from_config(copy.deepcopy(config))
        with serialization_lib.ObjectSharingScope():
            return serialization_lib.deserialize_keras_object({**copy.deepcopy(config), "compile_config": None})
    except (TypeError, ValueError, AttributeError, KeyError) as err:
        layer, reason = _culprit(config, legacy_h5) or ("", _first_line(err))
        raise KerasTraceError(layer, reason) from err


def _culprit(config: dict, legacy_h5: bool) -> tuple[str, str] | None:
    """The first layer whose own config Keras cannot deserialize, and why (descending into nested models)."""
    pending = list((config.get("config") or {}).get("layers") or [])
    while pending:
        layer = pending.pop(0)
        try:
            if legacy_h5:
                saving_utils.model_from_config(copy.deepcopy(layer))
            else:
                serialization_lib.deserialize_keras_object(copy.deepcopy(layer))
        except Exception as err:  # noqa: BLE001 - any failure here is the diagnosis being looked for
            inner = (layer.get("config") or {}).get("layers")
            if inner:
                pending = list(inner)
                continue
            return str((layer.get("config") or {}).get("name", layer.get("class_name"))), _first_line(err)
    return None


@contextlib.contextmanager
def _static_vocabulary_sizes() -> Iterator[None]:
    """While tracing, lookup layers (StringLookup, IntegerLookup, TextVectorization's) give their size as an int.

    In a TF1 graph IndexLookup.vocabulary_size() is the table's size op, not a
    number. Setting the vocabulary of a multi_hot, count or one_hot layer (in its
    constructor or from the archive's assets) compares it with the size its
    config froze, which a tensor never equals, and the layer's output width
    comes from it. The size is known when Keras builds the table from the
    vocabulary's tokens, so it is recorded there. The class is restored after.
    """
    from_tokens, traced_size, sizes = IndexLookup._lookup_table_from_tokens, IndexLookup.vocabulary_size, {}

    def table_from_tokens(layer: Any, tokens: Any) -> Any:
        count = tokens.shape[0] if hasattr(tokens, "shape") else len(tokens)
        if count is not None:
            sizes[id(layer)] = layer._token_start_index() + int(count)
        return from_tokens(layer, tokens)

    def vocabulary_size(layer: Any) -> Any:
        return sizes[id(layer)] if id(layer) in sizes else traced_size(layer)

    IndexLookup._lookup_table_from_tokens, IndexLookup.vocabulary_size = table_from_tokens, vocabulary_size
    try:
        yield
    finally:
        IndexLookup._lookup_table_from_tokens, IndexLookup.vocabulary_size = from_tokens, traced_size


def _load_state(tf: Any, model: Any, weights: Mapping[str, Any], assets_dir: str | None,
                made: dict[str, str]) -> None:
    assets = saving_lib.DiskIOStore(assets_dir, mode="r") if assets_dir else None
    errors: dict[int, tuple] = {}
    saving_lib._load_state(model, weights_store=_PlaceholderStore(tf, weights, made), assets_store=assets,
                           inner_path="", visited_saveables=set(), failed_saveables=set(), error_msgs=errors)
    for saveable, err in errors.values():
        raise KerasTraceError(getattr(saveable, "name", type(saveable).__name__), _first_line(err)) from err


def _assign_legacy(tf: Any, model: Any, weights: Mapping[str, Any], made: dict[str, str]) -> None:
    """What Keras's load_weights_from_hdf5_group does, in order, with placeholders for the values."""
    layers = [layer for layer in model.layers if layer.trainable_weights + layer.non_trainable_weights]
    saved = [name for name, entries in weights.items() if entries]
    if len(saved) != len(layers):
        raise KerasTraceError("", f"the model has {len(layers)} layers with weights but the file has {len(saved)}")
    for layer, name in zip(layers, saved):
        variables = layer.trainable_weights + layer.non_trainable_weights
        if len(variables) != len(weights[name]):
            raise KerasTraceError(layer.name, f"it has {len(variables)} weights but the file has "
                                              f"{len(weights[name])} for {name!r}")
        for variable, entry in zip(variables, weights[name]):
            try:
                variable.assign(_placeholder(tf, entry, made))
            except ValueError as err:
                raise KerasTraceError(layer.name, _first_line(err)) from err


def _flat(results: Any, outputs: Sequence[str]) -> list:
    if isinstance(results, Mapping):
        return [results[name] for name in outputs]
    return list(results) if isinstance(results, (list, tuple)) else [results]


def _first_line(err: BaseException) -> str:
    """The reason in one line: Keras wraps the real one after "Exception encountered:" in a generic message."""
    text = str(err).rsplit("Exception encountered:", 1)[-1]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def version() -> str:
    return keras.__version__
