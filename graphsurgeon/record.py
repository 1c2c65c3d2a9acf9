"""The record an export keeps of how it was made: assets.extra/graphsurgeon_recipe.json.

It holds the recipe as given and as resolved, the source's path and a
fingerprint of its files, and graphsurgeon's and TensorFlow's versions, so
that `graphsurgeon verify DIR` can replay the recipe against the source. It
has no timestamps and is written with sorted keys: two exports of the same
source with the same recipe are byte-identical. Serving reads only its own
files in assets.extra/, so the record does not change what Serving loads.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphsurgeon.formats import saved_model as layout
from graphsurgeon.errors import LoadError
from graphsurgeon.ir.model import Model
from graphsurgeon.recipe import Recipe

if TYPE_CHECKING:
    from graphsurgeon.plan import Plan

RECORD_VERSION = 1
WHOLE_FILE_LIMIT = 64 << 20  # larger files are fingerprinted by their size, head and tail
SAMPLE = 1 << 20


@dataclass(frozen=True)
class Record:
    source: str  # the source's path, absolute
    recipe: Recipe
    data: dict[str, Any]

    def source_exists(self) -> bool:
        return bool(self.source) and (Path(self.source).exists() or bool(list(_prefix_files(Path(self.source)))))


def recipe_record(source: Model | str | os.PathLike, model: Model, recipe: Recipe, planned: "Plan") -> bytes:
    """The record's bytes: deterministic JSON."""
    given = model.source.path if isinstance(source, Model) else str(source)
    absolute = os.path.abspath(given) if given else ""
    data = {
        "record_version": RECORD_VERSION,
        "graphsurgeon": _version("graphsurgeon"),
        "tensorflow": _version("tensorflow"),
        "source": {"path": given, "absolute_path": absolute, "format": model.source.format,
                   "files": fingerprint(Path(absolute)) if absolute else {}},
        "recipe": recipe.to_json(),
        "resolved": planned.resolved(),
    }
    return (json.dumps(data, sort_keys=True, indent=1) + "\n").encode()


def read_record(version_dir: str | os.PathLike) -> Record | None:
    """The record of an export, or None for a SavedModel graphsurgeon did not write."""
    path = layout.extra(Path(version_dir)) / layout.RECIPE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        recipe = Recipe.from_json(data["recipe"])
        source = data["source"]["absolute_path"]
    except (ValueError, KeyError, TypeError) as err:
        raise LoadError(f"{path} is not a graphsurgeon recipe record ({err}); remove it, or re-export") from err
    return Record(source, recipe, data)


def fingerprint(path: Path) -> dict[str, dict[str, Any]]:
    """sha256 (and size) of each file the source consists of, by name relative to it."""
    files = sorted(_source_files(path))
    root = path if path.is_dir() else path.parent
    return {str(f.relative_to(root)): _file_digest(f) for f in files}


def _source_files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        # a .meta or .index names a checkpoint whose other files are beside it
        if path.suffix in (".meta", ".index"):
            yield from (f for f in _prefix_files(path.with_suffix("")) if f != path)
    elif path.is_dir():
        yield from (f for f in path.rglob("*") if f.is_file())
    else:
        yield from _prefix_files(path)


def _prefix_files(prefix: Path) -> Iterator[Path]:
    if prefix.parent.is_dir():
        yield from (f for f in prefix.parent.glob(prefix.name + ".*") if f.is_file())
        yield from (f for f in prefix.parent.glob(prefix.name + "-?????-of-?????") if f.is_file())


def _file_digest(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    digest = hashlib.sha256()
    with path.open("rb") as f:
        if size <= WHOLE_FILE_LIMIT:
            for chunk in iter(lambda: f.read(SAMPLE), b""):
                digest.update(chunk)
            return {"bytes": size, "sha256": digest.hexdigest()}
        digest.update(f.read(SAMPLE))
        f.seek(size - SAMPLE)
        digest.update(f.read(SAMPLE))
    return {"bytes": size, "sha256_head_tail": digest.hexdigest()}


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
