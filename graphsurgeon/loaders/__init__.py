"""load(path): one entry point for every model format graphsurgeon reads."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from graphsurgeon.errors import LoadError
from graphsurgeon.ir.model import Model, Source
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.loaders import checkpoint
from graphsurgeon.loaders.graphdef import load_graphdef, parse_proto
from graphsurgeon.loaders.metagraph import model_from_meta_graph
from graphsurgeon.loaders.restore_on_init import with_init_checkpoints
from graphsurgeon.loaders.saved_model import is_saved_model, load_saved_model
from graphsurgeon.tf.protos import pb

GRAPHDEF_SUFFIXES = (".pb", ".pbtxt", ".graphdef")
KERAS_SUFFIXES = (".h5", ".hdf5")


def load(path: str | os.PathLike, *, tags: Sequence[str] | None = None, trace: bool = True,
         signature: str | Sequence[str] | None = None, architecture: str | None = None, unsafe_lambda: bool = False,
         custom_objects: dict | None = None, weights: str | os.PathLike | None = None,
         replace_layers: dict | None = None) -> Model:
    """Read a frozen or unfrozen GraphDef, a TF1 checkpoint or .meta, a SavedModel, a Keras .h5 or .keras.

    Weights are not read: the returned Model knows every tensor's dtype, shape
    and size, and reads bytes only when a later stage writes them out. A Keras
    file is traced (Keras 1/2 .h5 with tf_keras; .keras and Keras 3 .h5 with
    Keras 3) unless ``trace`` is False (metadata only, for inspect and audit);
    ``architecture`` is the JSON for a weights-only file; ``replace_layers``
    maps layer names to functions that stand in for them (no stored bytecode
    runs; every Keras format).
    A TF2 SavedModel's serving signatures are flattened together into one graph
    (``signature``: one key or a list of keys; default every one that can be frozen).
    ``weights`` is where a checkpoint the graph restores at init (a TF-Hub
    module's) is now, or the checkpoint of a .meta shipped without one.
    Loading checks node names; each node is checked when it is first used
    (ir.validate), and graphsurgeon.ir.validate.validate checks a whole graph.
    """
    return _load(Path(path), tags, trace, signature, architecture, unsafe_lambda, custom_objects, weights,
                 replace_layers)


def _load(path: Path, tags: Sequence[str] | None, trace: bool, signature: str | Sequence[str] | None,
          architecture: str | None, unsafe_lambda: bool, custom_objects: dict | None,
          weights: str | os.PathLike | None, replace_layers: dict | None) -> Model:
    if is_saved_model(path):
        return load_saved_model(path, tags, trace, signature)
    if path.suffix in (".keras", *KERAS_SUFFIXES):
        _require_file(path)
        # imported here: h5py and the Keras loaders cost a graph's load a tenth of a second
        from graphsurgeon.loaders.keras.h5 import load_keras_h5
        from graphsurgeon.loaders.keras.keras3 import h5_keras_version, load_keras3_h5, load_keras_archive
    if path.suffix == ".keras":
        return load_keras_archive(path, trace, unsafe_lambda, custom_objects, replace_layers)
    if path.suffix in KERAS_SUFFIXES:
        if h5_keras_version(path).startswith("3.") and architecture is None:
            return load_keras3_h5(path, trace, unsafe_lambda, custom_objects, replace_layers)
        return load_keras_h5(path, trace, architecture, unsafe_lambda, custom_objects, replace_layers)
    if path.suffix in GRAPHDEF_SUFFIXES:
        _require_file(path)
        return load_graphdef(path)
    if not path.exists() and not _looks_like_prefix(path):
        raise LoadError(f"no such file or directory: {path}")
    return with_init_checkpoints(load_checkpoint(path), str(weights) if weights is not None else None)


def _require_file(path: Path) -> None:
    """A model file that is not a regular file, with the reason: missing, a directory, or a broken link."""
    if path.is_file():
        return
    if path.is_dir():
        raise LoadError(f"{path} is a directory, not a {path.suffix} file; give the model file itself")
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError) as err:  # RuntimeError: a symlink loop on Python < 3.13
            raise LoadError(f"{path} is a symbolic link that loops or points nowhere; fix the link") from err
        raise LoadError(f"{path} links to {target}, which is not a regular file")
    raise LoadError(f"no such file: {path}")


def _looks_like_prefix(path: Path) -> bool:
    return any(Path(str(path) + s).exists() for s in (".meta", ".index")) or bool(
        list(path.parent.glob(path.name + "-?????-of-?????")) if path.parent.is_dir() else []
    )


def load_checkpoint(path: Path) -> Model:
    files = checkpoint.locate(path)
    weights = checkpoint.read_index(files.pattern) if files.pattern else WeightStore()
    if files.meta is None:
        raise LoadError(
            f"checkpoint {files.prefix} has no graph ({files.prefix}.meta is missing): "
            "a checkpoint holds only weights; get the .meta file written with it"
        )
    meta = parse_proto(files.meta, pb.meta_graph_pb2.MetaGraphDef(), "MetaGraphDef")
    fmt = "checkpoint" if files.pattern else "metagraph"
    return model_from_meta_graph(meta, Source(str(path), fmt, files.pattern), weights)


__all__ = ["load"]
