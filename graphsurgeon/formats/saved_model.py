"""The SavedModel directory layout, written once (tensorflow/cc/saved_model/constants.h, and Serving's warmup file).

    VERSION_DIR/saved_model.pb (or .pbtxt)
    VERSION_DIR/variables/variables.index, variables.data-?????-of-?????
    VERSION_DIR/assets/...
    VERSION_DIR/assets.extra/tf_serving_warmup_requests, graphsurgeon_recipe.json
"""
from __future__ import annotations

from pathlib import Path

PROTO = "saved_model.pb"
PROTO_TEXT = "saved_model.pbtxt"
VARIABLES = "variables"  # the folder, and the checkpoint prefix inside it
ASSETS = "assets"
EXTRA = "assets.extra"  # files Serving reads (its warmup requests) or ignores; never loaded as assets
WARMUP_FILE = "tf_serving_warmup_requests"
RECIPE_FILE = "graphsurgeon_recipe.json"  # the record graphsurgeon writes beside Serving's files


def proto(directory: Path) -> Path:
    """The binary proto, else the text one (a SavedModel holds one of them)."""
    binary = directory / PROTO
    return binary if binary.is_file() or not (directory / PROTO_TEXT).is_file() else directory / PROTO_TEXT


def has_proto(directory: Path) -> bool:
    return directory.is_dir() and any((directory / name).is_file() for name in (PROTO, PROTO_TEXT))


def variables_prefix(directory: Path) -> Path:
    """The checkpoint prefix of a SavedModel's variables: VERSION_DIR/variables/variables."""
    return directory / VARIABLES / VARIABLES


def variables_index(directory: Path) -> Path:
    return variables_prefix(directory).with_name(VARIABLES + ".index")


def assets(directory: Path) -> Path:
    return directory / ASSETS


def extra(directory: Path) -> Path:
    return directory / EXTRA
