"""The one module that imports tensorflow.

TensorFlow takes seconds to import, so it is imported on first use. Everything
else in graphsurgeon reaches TensorFlow (protos, the checkpoint reader, op
definitions, a Session for initializers) through the names defined here.
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

# TensorFlow's C++ logging goes to stderr before Python can stop it; level 2
# keeps warnings and errors out of a CLI whose output users read.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def _native_stderr_captured():
    """Hold back what native code writes to fd 2; replay it only if the block fails.

    TensorFlow 2.21 logs INFO lines from C++ (oneDNN, CUDA probing) at import,
    before TF_CPP_MIN_LOG_LEVEL takes effect, into the CLI's output.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@functools.lru_cache(maxsize=None)
def tf() -> ModuleType:
    with _native_stderr_captured():
        import tensorflow
    return tensorflow


class _Protos:
    """Proto modules, loaded with tensorflow on first attribute access."""

    @functools.cached_property
    def _modules(self) -> dict[str, ModuleType]:
        tf()
        from tensorflow.core.framework import (
            attr_value_pb2,
            function_pb2,
            graph_pb2,
            node_def_pb2,
            tensor_pb2,
            tensor_shape_pb2,
            types_pb2,
            variable_pb2,
            versions_pb2,
        )
        from tensorflow.core.protobuf import (
            meta_graph_pb2,
            saved_model_pb2,
            saver_pb2,
        )
        from tensorflow.python.training import checkpoint_state_pb2

        return {m.__name__.rsplit(".", 1)[1]: m for m in (
            attr_value_pb2, function_pb2, graph_pb2, node_def_pb2, tensor_pb2,
            tensor_shape_pb2, types_pb2, variable_pb2, versions_pb2, meta_graph_pb2,
            saved_model_pb2, saver_pb2, checkpoint_state_pb2,
        )}

    def __getattr__(self, name: str) -> ModuleType:
        try:
            return self._modules[name]
        except KeyError:
            raise AttributeError(name) from None


pb = _Protos()


# ---------------------------------------------------------------- dtypes

def dtype_name(enum: int) -> str:
    """'float32' for DT_FLOAT; ref types are named after their base type."""
    return tf().dtypes.as_dtype(enum).base_dtype.name


def dtype_enum(name: str) -> int:
    """DT_FLOAT for 'float32'; raises KeyError-like TypeError for unknown names."""
    return tf().dtypes.as_dtype(name).as_datatype_enum


def base_enum(enum: int) -> int:
    """The value type of a possibly ref-typed dtype enum."""
    return enum - 100 if enum > 100 else enum


def numpy_dtype(enum: int) -> np.dtype:
    return np.dtype(tf().dtypes.as_dtype(base_enum(enum)).as_numpy_dtype)


def itemsize(enum: int) -> int:
    """Bytes per element; 0 for variable-length types (string, variant, resource)."""
    dtype = tf().dtypes.as_dtype(base_enum(enum))
    if dtype in (tf().string, tf().variant, tf().resource):
        return 0
    return dtype.size


# ---------------------------------------------------------------- ops

@functools.lru_cache(maxsize=None)
def op_def(op: str) -> Any:
    """The registered OpDef for ``op``, or None for unknown and function ops."""
    tf()
    from tensorflow.python.framework import op_def_registry

    return op_def_registry.get(op)


# ---------------------------------------------------------------- tensors

def make_tensor_proto(array: np.ndarray, dtype_enum_value: int | None = None) -> Any:
    kwargs = {"dtype": tf().dtypes.as_dtype(base_enum(dtype_enum_value))} if dtype_enum_value else {}
    return tf().make_tensor_proto(array, **kwargs)


def tensor_proto_to_array(proto: Any) -> np.ndarray:
    return tf().make_ndarray(proto)


def shape_proto(dims: Sequence[int] | None) -> Any:
    """A TensorShapeProto; None is unknown rank, -1 an unknown dimension."""
    proto = pb.tensor_shape_pb2.TensorShapeProto()
    if dims is None:
        proto.unknown_rank = True
    else:
        for d in dims:
            proto.dim.add().size = d
    return proto


# ---------------------------------------------------------------- checkpoints

def checkpoint_reader(pattern: str) -> Any:
    """TensorFlow's reader: index metadata now, tensor bytes on get_tensor()."""
    tf()
    from tensorflow.python.training import py_checkpoint_reader

    return py_checkpoint_reader.NewCheckpointReader(pattern)


def checkpoint_read_error() -> type[Exception]:
    return tf().errors.OpError


# ---------------------------------------------------------------- running graphs

def _seeded(graph_def: Any) -> Any:
    """A copy whose unseeded random ops get seeds from their names.

    A random op with seed=seed2=0 draws a new sequence on every run; naming
    seeds after the node keeps initializer values identical across runs.
    """
    out = pb.graph_pb2.GraphDef()
    out.CopyFrom(graph_def)
    for node in out.node:
        if "seed" in node.attr and "seed2" in node.attr:
            if node.attr["seed"].i == 0 and node.attr["seed2"].i == 0:
                node.attr["seed"].i = 87654321
                node.attr["seed2"].i = zlib.crc32(node.name.encode()) & 0x7FFFFFFF
    return out


def run_graph(graph_def: Any, fetches: Sequence[str], feeds: Mapping[str, np.ndarray] | None = None) -> list[np.ndarray]:
    """Run ``fetches`` (tensor names) of a GraphDef in a fresh TF1 Session."""
    t = tf()
    graph = t.Graph()
    with graph.as_default():
        t.graph_util.import_graph_def(_seeded(graph_def), name="")
    with _native_stderr_captured(), t.compat.v1.Session(graph=graph) as session:
        return session.run(list(fetches), feed_dict=dict(feeds or {}))


def static_shapes(graph_def: Any, tensors: Sequence[str]) -> list[list[int] | None]:
    """Static shapes TensorFlow infers for ``tensors`` (-1 unknown dim, None unknown rank)."""
    t = tf()
    graph = t.Graph()
    with graph.as_default():
        t.graph_util.import_graph_def(graph_def, name="")
    shapes: list[list[int] | None] = []
    for name in tensors:
        shape = graph.get_tensor_by_name(name).shape
        shapes.append(None if shape.rank is None else [-1 if d is None else d for d in shape.as_list()])
    return shapes


def import_error() -> tuple[type[Exception], ...]:
    """Exceptions import_graph_def raises for a graph TF cannot build."""
    return (ValueError, TypeError, tf().errors.OpError)


# ---------------------------------------------------------------- writing checkpoints

def save_tensors(prefix: str, names: Sequence[str], arrays: Sequence[np.ndarray]) -> None:
    """Write one checkpoint bundle with TensorFlow's own writer (eager SaveV2: no Graph, no Session)."""
    t = tf()
    with _native_stderr_captured():
        t.raw_ops.SaveV2(prefix=prefix, tensor_names=list(names), shape_and_slices=[""] * len(names),
                         tensors=[t.convert_to_tensor(a) for a in arrays])


def merge_checkpoints(prefixes: Sequence[str], destination: str) -> None:
    """Merge bundles into one prefix; their data files are moved, not copied."""
    t = tf()
    with _native_stderr_captured():
        t.raw_ops.MergeV2Checkpoints(checkpoint_prefixes=list(prefixes), destination_prefix=destination,
                                     delete_old_dirs=True)


def tensorflow_versions() -> tuple[str, str]:
    return tf().version.VERSION, tf().version.GIT_VERSION


def run_restored(graph_def: Any, restore: tuple[str, str, str] | None, init_ops: Sequence[str],
                 asset_feeds: Mapping[str, str], feeds: Mapping[str, np.ndarray], fetches: Sequence[str]) -> list:
    """Run a source graph as its trainer would: restore (filename tensor, restore op, prefix), init, fetch."""
    t = tf()
    graph = t.Graph()
    with graph.as_default():
        t.graph_util.import_graph_def(graph_def, name="")
    with _native_stderr_captured(), t.compat.v1.Session(graph=graph) as session:
        if restore is not None:
            session.run(restore[1], {restore[0]: restore[2]})
        for op in init_ops:
            session.run(op, {k: v for k, v in asset_feeds.items() if graph.is_feedable(graph.get_tensor_by_name(k))})
        return session.run(list(fetches), dict(feeds))
