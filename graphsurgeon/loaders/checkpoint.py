"""Finding a TF1 checkpoint from whatever path the user has, and reading its index.

Accepted: a prefix (model.ckpt-1000), the .meta or .index file, a model_dir with
a ``checkpoint`` state file, a directory holding files literally named .meta
and .index, and V1 checkpoints (export-00000-of-00001).
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import text_format

from graphsurgeon.errors import LoadError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.formats.bundle import CompressedIndex
from graphsurgeon.ir.weights import BundleSource, CheckpointSource, WeightInfo, WeightStore, numeric_nbytes
from graphsurgeon.loaders.bundle import Bundle
from graphsurgeon.tf import runtime
from graphsurgeon.tf.protos import pb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckpointFiles:
    prefix: str
    meta: Path | None  # the MetaGraph, if shipped
    pattern: str | None  # what TensorFlow's reader opens; None if there are no weights


def locate(path: Path) -> CheckpointFiles:
    prefix = _prefix_in_dir(path) if path.is_dir() else _strip_suffix(path)
    meta = Path(prefix + ".meta")
    return CheckpointFiles(prefix, meta if meta.is_file() else None, _weights_pattern(prefix))


def _strip_suffix(path: Path) -> str:
    """model.ckpt-3.meta -> model.ckpt-3; dir/.meta (an empty basename) -> dir/."""
    for suffix in (".meta", ".index"):
        if path.name.endswith(suffix):
            return str(path)[: -len(suffix)]
    return str(path)


def _prefix_in_dir(directory: Path) -> str:
    state = directory / "checkpoint"
    named = _prefix_from_state(state) if state.is_file() else None
    if named is not None:
        return named
    candidates = sorted({_strip_suffix(p) for p in directory.iterdir() if p.name.endswith((".index", ".meta"))},
                        key=_step_number)
    if not candidates:
        raise LoadError(
            f"{directory} holds no checkpoint: expected a 'checkpoint' state file or PREFIX.meta / PREFIX.index files"
        )
    if state.is_file():
        log.warning("%s names a checkpoint that is not here; using %s, the latest beside it", state, candidates[-1])
    return candidates[-1]


def _step_number(prefix: str) -> tuple[int, str]:
    match = re.search(r"-(\d+)$", prefix)
    return (int(match.group(1)) if match else -1, prefix)


def _prefix_from_state(state: Path) -> str | None:
    """The latest checkpoint a state file names, moved into its directory if it is from another machine.

    Paths are handled as strings: a prefix ending in '/' (files literally
    named .index, .meta) has an empty basename that pathlib would drop, and a
    Windows path's basename follows a backslash. None when it is not here.
    """
    proto = pb.checkpoint_state_pb2.CheckpointState()
    try:
        text_format.Parse(state.read_text(), proto)
    except (text_format.ParseError, UnicodeDecodeError) as err:
        raise LoadError(f"{state} is not a checkpoint state file ({err}); delete it or fix it") from err
    named = proto.model_checkpoint_path
    if not named:
        return None
    basename = re.split(r"[/\\]", named)[-1]
    here = os.path.join(str(state.parent), "")
    for prefix in (named if os.path.isabs(named) else here + named, here + basename):
        if _has_checkpoint_files(prefix):
            if prefix != named:
                log.info("checkpoint state names %s; using %s from the same directory", named, prefix)
            return prefix
    return None


def _has_checkpoint_files(prefix: str) -> bool:
    return any(Path(prefix + s).is_file() for s in (".index", ".meta")) or _v1_pattern(prefix) is not None


def _v1_pattern(prefix: str) -> str | None:
    if Path(prefix).is_file():
        return prefix
    shards = sorted(Path(prefix).parent.glob(Path(prefix).name + "-?????-of-?????"))
    if shards:
        return prefix + "-?????-of-" + shards[0].name[-5:]
    return None


def _weights_pattern(prefix: str) -> str | None:
    index = Path(prefix + ".index")
    if index.is_file():
        if not list(index.parent.glob(index.name[: -len(".index")] + ".data-?????-of-?????")):
            raise LoadError(
                f"checkpoint index {index} has no data files: expected {prefix}.data-00000-of-00001 "
                "next to it; copy the .data-* files from where the checkpoint was written"
            )
        return prefix
    pattern = _v1_pattern(prefix)
    if pattern is None and not Path(prefix + ".meta").is_file():
        raise LoadError(
            f"no checkpoint at {prefix!r}: expected {prefix}.meta, {prefix}.index or a V1 file; check the path"
        )
    return pattern


def read_index(pattern: str) -> WeightStore:
    """Dtype, shape and size of every checkpoint tensor, from the index only.

    V2 checkpoints are read by graphsurgeon's own bundle reader; V1 checkpoints
    and partitioned variables by TensorFlow's.
    """
    if Path(pattern + ".index").is_file():
        with contextlib.suppress(CompressedIndex):
            bundle = Bundle(pattern)
            if not bundle.needs_tensorflow():
                return _from_bundle(bundle)
    try:
        reader = CheckpointSource(pattern)
        shapes = reader.reader().get_variable_to_shape_map()
        dtypes = reader.reader().get_variable_to_dtype_map()
    # TensorFlow's reader reports a damaged file as an OpError, or as the IndexError/ValueError
    # its C++ status codes map to.
    except (runtime.checkpoint_read_error(), IndexError, ValueError, RuntimeError) as err:
        message = (getattr(err, "message", None) or str(err) or type(err).__name__).splitlines()[0]
        raise LoadError(f"cannot read checkpoint {pattern}: {message}; the checkpoint may be damaged: "
                        "copy its .index and .data-* files again") from err
    entries = {}
    for key in sorted(shapes):
        dtype = dtypes[key].as_datatype_enum
        shape = tuple(shapes[key])
        entries[key] = (WeightInfo(key, dtype, shape, numeric_nbytes(dtype, shape)), reader)
    return WeightStore(entries)


def _from_bundle(bundle: Bundle) -> WeightStore:
    source = BundleSource(bundle)
    entries = {}
    for key in sorted(bundle.entries):
        entry = bundle.entries[key]
        shape = bundle.shape(key)
        nbytes = entry.size if entry.dtype == dt.STRING else numeric_nbytes(entry.dtype, shape)
        entries[key] = (WeightInfo(key, entry.dtype, shape, nbytes), source)
    return WeightStore(entries)
