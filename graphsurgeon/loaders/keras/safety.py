"""Refuse a Keras config that carries code, before any Keras code reads the file.

Keras stores Python functions in model files in several places: a Lambda
layer's ``function``, an RNN cell wrapper's ``residual_fn``, and any activation,
initializer, regularizer or constraint saved as a lambda. Keras 2 writes them as
marshalled bytecode (``*_type: "lambda"`` beside a base64 string); Keras 3 as
``{"class_name": "__lambda__"}``. Loading such a file runs that code. Keras
configs also name classes by ``module``/``registered_name``, and Keras 3 imports
modules it is given.

So the scan is an allow-list over the whole parsed config (every nested dict
and list, iteratively): every class or function named must be Keras's own
(names.KERAS_NAMES, from modules of keras, keras.src, tf_keras or
tensorflow.keras) or one the user supplied with --custom-objects; no field may
hold a lambda or bytecode. The scan reads JSON only: it never decodes bytecode
beyond its first bytes, and never imports anything the config names.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import struct
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from graphsurgeon.errors import LoadError
from graphsurgeon.loaders.keras.archive import ZIP_ERRORS
from graphsurgeon.loaders.keras.names import KERAS_NAMES, KERAS_OPS

KERAS_PACKAGES = ("keras", "tf_keras", "tensorflow.keras", "tensorflow.python.keras")
KERAS_OPS_MODULE = "keras.src.ops."  # where Keras 3's operation classes live (names.KERAS_OPS)
# Keras 3's own markers for plain values (tuples, arrays, bytes, tensors) and for named functions.
KERAS3_MARKERS = frozenset({"__tuple__", "__numpy__", "__bytes__", "__tensor__", "__typespec__",
                            "__keras_tensor__", "__ellipsis__", "__slice__", "function"})
LAMBDA_MARKER = "__lambda__"
FUNCTION_LAYERS = frozenset({"Lambda"})  # layers whose whole content is a stored Python function
# marshal's code-object type byte, with and without its reference flag.
CODE_TYPE_BYTES = frozenset({ord("c"), ord("c") | 0x80})
MAX_CONFIG_BYTES = 64 * 2**20  # a model config is kilobytes; refuse a zip bomb before unpacking it
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]{24,}")


class UnsafeKerasConfigError(LoadError):
    """A Keras config names code that is not Keras's own or the user's."""


@dataclass(frozen=True)
class Finding:
    """One place in a config that would run or import code the user did not supply."""

    layer: str
    field: str
    what: str
    fix: str


def check_config(config: object, source: str, *, allow_code: bool, custom_names: Collection[str] = ()) -> None:
    """Raise UnsafeKerasConfigError for the first field of ``config`` that carries code.

    ``config`` is the parsed JSON of an .h5 ``model_config`` attribute, an
    --architecture file, or a .keras archive's config.json; ``source`` names it
    in the message. ``allow_code`` (--unsafe-lambda) skips the scan for files
    the user trusts. ``custom_names`` are the --custom-objects names.
    """
    if allow_code:
        return
    finding = next(findings(config, frozenset(custom_names)), None)
    if finding is not None:
        raise UnsafeKerasConfigError(
            f"{source}: layer {finding.layer!r}, field {finding.field!r}: {finding.what}; loading it would run "
            f"or import code from the file. {finding.fix}, or pass --unsafe-lambda only if you trust the "
            "file's author"
        )


def check_keras_archive(path: Path, *, allow_code: bool, custom_names: Collection[str] = ()) -> dict:
    """The config.json of a Keras 3 ``.keras`` archive, checked by check_config; read with zipfile and json only."""
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.getinfo("config.json").file_size > MAX_CONFIG_BYTES:
                raise LoadError(f"{path}: config.json unpacks to more than {MAX_CONFIG_BYTES} bytes; it is not a "
                                "Keras model config")
            raw = archive.read("config.json")
    except (KeyError, *ZIP_ERRORS) as err:
        raise LoadError(f"{path} is not a readable .keras archive with a config.json ({err}); re-save it with "
                        "model.save('model.keras')") from err
    try:
        config = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise LoadError(f"{path}: config.json is not valid JSON ({type(err).__name__}); re-save the model") from err
    check_config(config, str(path), allow_code=allow_code, custom_names=custom_names)
    return config


def findings(config: object, custom_names: frozenset[str]) -> Iterator[Finding]:
    """Every unsafe field, in document order (an explicit stack: configs can nest deeply)."""
    top = config.get("config") if isinstance(config, dict) else None
    model_name = str(top.get("name", "model")) if isinstance(top, dict) else "model"
    stack: list[tuple[object, str, tuple[str, ...]]] = [(config, model_name, ())]
    while stack:
        item, layer, path = stack.pop()
        if isinstance(item, dict):
            yield from _dict_findings(item, layer, path, custom_names)
            children = [(value, *_child_context(key, value, layer, path)) for key, value in item.items()]
        elif isinstance(item, list):
            children = [(value, *_list_child_context(value, layer, path)) for value in item]
        else:
            if isinstance(item, str) and looks_like_bytecode(item):
                yield Finding(layer, _field(path), "it holds marshalled Python bytecode", _replace_fix(layer))
            continue
        stack.extend(reversed(children))


def _child_context(key: object, value: object, layer: str, path: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    if key == "config":  # Keras wraps every object as {"class_name": ..., "config": {...}}: not a field name
        return layer, path
    return layer, (*path, str(key))


def _list_child_context(value: object, layer: str, path: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """An element of a model's "layers" list starts a new layer: fields are named relative to it.

    Keras 1 and early Keras 2 Sequential configs are the list itself (path ()).
    """
    if (not path or path[-1] == "layers") and isinstance(value, dict):
        name = _layer_name(value)
        if name is not None:
            return name, ()
    return layer, path


def _layer_name(item: dict) -> str | None:
    inner = item.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    name = name if name is not None else item.get("name")
    return str(name) if name is not None else None


def _field(path: tuple[str, ...]) -> str:
    return ".".join(path) if path else "(the layer itself)"


def _replace_fix(layer: str) -> str:
    return f"Rebuild the layer in Python with --replace-layer {layer}=module.py:function"


def _dict_findings(item: dict, layer: str, path: tuple[str, ...], custom_names: frozenset[str]) -> Iterator[Finding]:
    if "class_name" in item:
        finding = _class_finding(item, layer, path, custom_names)
        if finding is not None:
            yield finding
    for key, value in item.items():
        if isinstance(key, str) and key.endswith("_type") and value in ("lambda", "function"):
            finding = _function_field_finding(item, key.removesuffix("_type"), value, layer, path, custom_names)
            if finding is not None:
                yield finding


def _function_field_finding(item: dict, field: str, kind: str, layer: str, path: tuple[str, ...],
                            custom_names: frozenset[str]) -> Finding | None:
    """Keras 2 stores a function as FIELD (bytecode or a name), FIELD_type and FIELD_module."""
    if kind == "lambda":
        return Finding(layer, _field((*path, field)), "it holds a Python lambda stored as bytecode",
                       _replace_fix(layer))
    name = item.get(field)
    if isinstance(name, str) and name in custom_names:
        return None
    module = item.get(f"{field}_module")
    return Finding(layer, _field((*path, field)),
                   f"it names function {name!r} of module {module!r}, which is not in --custom-objects",
                   f"Define {name!r} in a --custom-objects module.py")


def _class_finding(item: dict, layer: str, path: tuple[str, ...], custom_names: frozenset[str]) -> Finding | None:
    class_name, module, registered = item.get("class_name"), item.get("module"), item.get("registered_name")
    if not isinstance(class_name, str):
        return Finding(layer, _field(path), f"its class_name {class_name!r} is not a name", "Re-save the model")
    if class_name == LAMBDA_MARKER:
        return Finding(layer, _field(path), "it holds a Python lambda (Keras 3 __lambda__)", _replace_fix(layer))
    if class_name in FUNCTION_LAYERS:
        inner = item.get("config")
        if isinstance(inner, dict) and isinstance(inner.get("function"), str) and inner["function"] in custom_names:
            return None  # a function the user supplied (--replace-layer), looked up by name: no stored code
        return Finding(layer, _field((*path, "function")), f"it is a {class_name} layer, whose function is "
                       "stored Python code", _replace_fix(layer))
    if _is_custom(class_name, registered, item.get("config"), custom_names):
        return None
    name = item.get("config") if class_name == "function" else class_name
    if _is_keras_name(name, module) and registered in (None, class_name, name):
        return None
    where = f" of module {module!r}" if module is not None else ""
    shown = registered if isinstance(registered, str) and registered not in ("", name) else name
    return Finding(layer, _field(path), f"it names {shown!r}{where}, which is neither Keras's own nor "
                   "in --custom-objects", f"Define {name!r} in a --custom-objects module.py")


def _is_custom(class_name: object, registered: object, inner: object, custom_names: frozenset[str]) -> bool:
    names = [class_name, registered, inner]
    if isinstance(registered, str) and ">" in registered:
        names.append(registered.split(">", 1)[1])  # "package>Name" as registered by register_keras_serializable
    return any(isinstance(n, str) and n in custom_names for n in names)


def _is_keras_name(name: object, module: object) -> bool:
    if not isinstance(name, str):
        return False
    if name in KERAS_OPS and isinstance(module, str) and module.startswith(KERAS_OPS_MODULE):
        return True  # an op between layers, from Keras's own ops module
    if not (name in KERAS_NAMES or name in KERAS3_MARKERS):
        return False
    if module is None:
        return True
    if not isinstance(module, str):
        return False
    # Keras 3 names its built-in functions (activations, losses) with module "builtins".
    return module == "builtins" or any(module == p or module.startswith(p + ".") for p in KERAS_PACKAGES)


def looks_like_bytecode(text: str) -> bool:
    """Whether ``text`` is base64 of a marshalled code object (Keras 2's func_dump), from its first bytes only."""
    if len(text) < 24 or not _BASE64.fullmatch(text):
        return False
    compact = re.sub(r"\s", "", text)[:24]
    try:
        head = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return False
    if head[0] not in CODE_TYPE_BYTES:
        return False
    # A code object starts with small counts: argcount, posonlyargcount, kwonlyargcount (int32 each).
    counts = struct.unpack_from("<3i", head, 1)
    return all(0 <= c < 256 for c in counts)
