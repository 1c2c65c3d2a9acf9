"""Keras model configs (JSON) read as data: input/output names, refusals, and tf.keras 2 upgrades.

Nothing here imports Keras. The names decided here are the ones every command
uses for a Keras source: inspect and audit show them from the config alone,
and tracing creates placeholders and output aliases with exactly these names.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphsurgeon.errors import LoadError
from graphsurgeon.loaders.keras.h5 import layer_dicts, refuse_lambdas
from graphsurgeon.loaders.keras.safety import check_config

MODEL_CLASSES = frozenset({"Functional", "Model", "Sequential"})
BACKEND_WRAPPERS = {"TorchModuleWrapper": "PyTorch", "JaxLayer": "JAX", "FlaxLayer": "JAX (Flax)"}
_INVALID_NODE_CHARS = re.compile(r"[^A-Za-z0-9_.\-/>]")


@dataclass(frozen=True)
class KerasInput:
    name: str
    dtype: str
    shape: list  # None for unknown dims


def json_config(text: str, source: Path) -> dict:
    try:
        config = json.loads(text)
    except json.JSONDecodeError as err:
        raise LoadError(f"{source}: the model config is not valid JSON ({err}); the file is damaged") from err
    if not isinstance(config, dict):
        raise LoadError(f"{source}: the model config is not a JSON object; the file is damaged")
    return config


def weight_node_name(key: str) -> str:
    """The node name a weight gets in the graph: its key, with characters TensorFlow forbids replaced."""
    name = _INVALID_NODE_CHARS.sub("_", key)
    return name if name[:1].isalnum() or name[:1] == "." else f"w{name}"


def inputs_of(config: dict) -> list[KerasInput]:
    """The model's inputs as its config declares them (a subclassed model: from build_config, float32)."""
    inner = config.get("config") or {}
    layers = {layer.get("config", {}).get("name"): layer for layer in inner.get("layers", []) or []}
    if config.get("class_name") == "Sequential":
        first = (inner.get("layers") or [{}])[0]
        if first.get("class_name") == "InputLayer":
            return [_input_spec(first["config"]["name"], first)]
        shape = inner.get("build_input_shape") or (config.get("build_config") or {}).get("input_shape")
        return [KerasInput("input_layer", "float32", list(shape) if shape else [None])]
    if "input_layers" in inner:
        return [_input_spec(name, layers.get(name, {})) for name in _layer_names(inner["input_layers"])]
    shape = (config.get("build_config") or {}).get("input_shape")
    shapes = shape if shape and isinstance(shape[0], list) else [shape]
    # A subclassed model was built with some batch size; the traced graph takes any.
    return [KerasInput(f"input_{i}", "float32", [None, *s[1:]] if s else [None]) for i, s in enumerate(shapes)]


def outputs_of(config: dict) -> list[str]:
    """Output names: the output layers' names (suffixed where one layer gives several), else output_N."""
    inner = config.get("config") or {}
    if config.get("class_name") == "Sequential":
        layers = inner.get("layers") or []
        return [layers[-1]["config"]["name"]] if layers else ["output_0"]
    if "output_layers" in inner:
        names = _layer_names(inner["output_layers"])
        return [n if names.count(n) == 1 else f"{n}_{i}" for i, n in enumerate(names)]
    return ["output_0"]


def _layer_names(spec: Any) -> list[str]:
    """[[name, node, tensor], ...], one [name, node, tensor], or {key: [...]} -> names (keys for a dict)."""
    if isinstance(spec, dict):
        return list(spec)
    if spec and isinstance(spec[0], str):
        return [spec[0]]
    return [item[0] for item in spec]


def _input_spec(name: str, layer: dict) -> KerasInput:
    cfg = layer.get("config", {})
    shape = cfg.get("batch_shape") or cfg.get("batch_input_shape") or [None]
    dtype = cfg.get("dtype", "float32")
    if isinstance(dtype, dict):  # a DTypePolicy
        dtype = dtype.get("config", {}).get("name", "float32")
    return KerasInput(name, str(dtype), list(shape))


def snake_case(name: str) -> str:
    """Keras's naming.to_snake_case: how a .keras weights file names a layer's group (by class, not layer name)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def weights_by_layer(config: dict, groups: dict[str, dict[str, tuple]]) -> dict[str, list[str]]:
    """Layer name -> its weight nodes, mapping config layers to weights-file groups as Keras's saver names them.

    The saver walks a model's ``layers`` in order and names each group after the
    layer's class in snake case, numbered on repeats (dense, dense_1, ...); a
    Sequential's list leaves out its InputLayer. A nested model's weights all
    belong to the layer that is the nested model.
    """
    found: dict[str, list[str]] = {}
    pending: list[tuple[dict, str, str | None]] = [(config, "", None)]  # (model, group prefix, owning layer)
    while pending:
        model, prefix, owner = pending.pop(0)
        body = model.get("config") or {}
        used: dict[str, int] = {}
        for layer in body.get("layers") or []:
            if model.get("class_name") == "Sequential" and layer.get("class_name") == "InputLayer":
                continue
            group = _unique(snake_case(str(layer.get("class_name", ""))), used)
            path = f"{prefix}layers/{group}"
            name = owner or str((layer.get("config") or {}).get("name", group))
            entries = groups.get(path, {})
            found.setdefault(name, []).extend(entries[i][0] for i in sorted(entries, key=_variable_order))
            if isinstance((layer.get("config") or {}).get("layers"), list):
                pending.append((layer, f"{path}/", name))
    return found


def layer_group_paths(config: dict) -> dict[tuple[str, ...], str]:
    """(names of the enclosing models' layers..., layer name) -> the weights-file group Keras's saver gives it.

    The same walk as weights_by_layer; a layer whose class changes (--replace-layer)
    changes its own group and the numbering of later layers of its class.
    """
    found: dict[tuple[str, ...], str] = {}
    pending: list[tuple[dict, str, tuple[str, ...]]] = [(config, "", ())]
    while pending:
        model, prefix, names = pending.pop(0)
        used: dict[str, int] = {}
        for layer in (model.get("config") or {}).get("layers") or []:
            if model.get("class_name") == "Sequential" and layer.get("class_name") == "InputLayer":
                continue
            path = f"{prefix}layers/{_unique(snake_case(str(layer.get('class_name', ''))), used)}"
            key = (*names, str((layer.get("config") or {}).get("name", path)))
            found[key] = path
            if isinstance((layer.get("config") or {}).get("layers"), list):
                pending.append((layer, f"{path}/", key))
    return found


def _variable_order(key: str) -> tuple[int, str]:
    """Numbered variables (0, 1, ..., 10) in number order, then named ones (a lookup's idf_weights)."""
    return (int(key), "") if key.isdigit() else (1 << 62, key)


def _unique(name: str, used: dict[str, int]) -> str:
    """Keras's saving_lib._get_unique_name."""
    if name not in used:
        used[name] = 0
        return name
    used[name] += 1
    return f"{name}_{used[name]}"


def refuse_unsafe(config: dict, source: Path, unsafe_lambda: bool, custom_objects: dict) -> None:
    """Refuse, before any Keras code runs: Lambda bytecode, classes not supplied, backend-bound layers."""
    refuse_lambdas(config, source, unsafe_lambda, frozenset(custom_objects))
    for layer in [config, *layer_dicts(config)]:
        name = (layer.get("config") or {}).get("name")
        what = f"layer {name!r}" if name and layer is not config else "the model"
        backend = BACKEND_WRAPPERS.get(layer.get("class_name", ""))
        if backend:
            raise LoadError(f"{source}: {what} is a {layer['class_name']}, which wraps {backend} code that "
                            "only runs on that backend; graphsurgeon traces on TensorFlow and cannot rebuild it")
        if _is_custom(layer) and not _supplied(layer, custom_objects):
            registered = layer.get("registered_name") or layer["class_name"]
            raise LoadError(f"{source}: {what} is of class {registered!r}, which is not part of Keras; supply "
                            f"the class with --custom-objects module.py (a file that defines {layer['class_name']})")
    # Last, so the specific reasons above come first: everything else that names code is refused by
    # keras.safety's allow-list (bytecode in any field, __lambda__, modules outside Keras).
    check_config(config, str(source), allow_code=unsafe_lambda, custom_names=sorted(custom_objects))


def _is_custom(layer: dict) -> bool:
    if "module" not in layer or "class_name" not in layer:
        return False  # .h5 configs do not say; Keras names an unknown class when it loads
    module = layer.get("module") or ""
    return not (module == "keras" or module.startswith(("keras.", "tf_keras"))) and \
        layer.get("registered_name") is not None


def _supplied(layer: dict, custom_objects: dict) -> bool:
    registered = layer.get("registered_name") or ""
    return any(n in custom_objects for n in (layer["class_name"], registered, registered.split(">")[-1]))


def upgraded(config: dict) -> dict:
    """A tf.keras 2.13-2.15 config as Keras 3 reads it: batch_input_shape becomes an InputLayer's batch_shape.

    tf.keras put ``batch_input_shape`` on the first layer of a Sequential (and on
    InputLayer); Keras 3 accepts it on neither and fails with an unknown keyword.
    """
    config = copy.deepcopy(config)
    for layer in layer_dicts(config):
        cfg = layer["config"]
        if "batch_input_shape" not in cfg:
            continue
        shape = cfg.pop("batch_input_shape")
        if layer["class_name"] == "InputLayer":
            cfg.setdefault("batch_shape", shape)
            cfg.pop("ragged", None)
    return config
