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
from graphsurgeon.loaders.keras_h5 import load_keras_h5
from graphsurgeon.loaders.metagraph import model_from_meta_graph
from graphsurgeon.loaders.restore_on_init import with_init_checkpoints
from graphsurgeon.loaders.saved_model import is_saved_model, load_saved_model
from graphsurgeon.protos import pb

GRAPHDEF_SUFFIXES = (".pb", ".pbtxt", ".graphdef")
KERAS_SUFFIXES = (".h5", ".hdf5")


def load(path: str | os.PathLike, *, tags: Sequence[str] | None = None, trace: bool = True,
         signature: str | Sequence[str] | None = None, architecture: str | None = None, unsafe_lambda: bool = False,
         custom_objects: dict | None = None, weights: str | os.PathLike | None = None,
         replace_layers: dict | None = None) -> Model:
    """Read a frozen or unfrozen GraphDef, a TF1 checkpoint or .meta, a SavedModel, or a Keras .h5.

    Weights are not read: the returned Model knows every tensor's dtype, shape
    and size, and reads bytes only when a later stage writes them out. A Keras
    file is traced with tf_keras unless ``trace`` is False (metadata only, for
    inspect and audit); ``architecture`` is the JSON for a weights-only file;
    ``replace_layers`` maps layer names to functions that stand in for them (no stored bytecode runs).
    A TF2 SavedModel's serving signatures are flattened together into one graph
    (``signature``: one key or a list of keys; default every one that can be frozen).
    ``weights`` is where a checkpoint the graph restores at init (a TF-Hub
    module's) is now, or the checkpoint of a .meta shipped without one.
    """
    path = Path(path)
    if is_saved_model(path):
        return load_saved_model(path, tags, trace, signature)
    if path.suffix == ".keras":
        raise LoadError(f"{path} is a Keras 3 archive, which graphsurgeon does not read yet; "
                        "export it with model.export('dir') and give that SavedModel directory")
    if path.suffix in KERAS_SUFFIXES:
        if not path.is_file():
            raise LoadError(f"no such file: {path}")
        return load_keras_h5(path, trace, architecture, unsafe_lambda, custom_objects, replace_layers)
    if path.suffix in GRAPHDEF_SUFFIXES:
        if not path.is_file():
            raise LoadError(f"no such file: {path}")
        return load_graphdef(path)
    if not path.exists() and not _looks_like_prefix(path):
        raise LoadError(f"no such file or directory: {path}")
    return with_init_checkpoints(load_checkpoint(path), str(weights) if weights is not None else None)


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
