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
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from graphsurgeon.tf.native_stderr import native_stderr_held_back
from graphsurgeon.tf.protos import pb
from graphsurgeon.tf.tf2_trace import (
    CapturedResource,
    SavedModelLoadFailed,
    TracedSignatures,
    Unflattenable,
    SideEffect,
    nodes_and_function_nodes,
    side_effects,
    shared_placeholders,
    what_resource,
)

# TensorFlow's C++ logging goes to stderr before Python can stop it; level 2
# keeps warnings and errors out of a CLI whose output users read.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def quiet_native_logs() -> contextlib.AbstractContextManager:
    """Hold back native stderr (TensorFlow's C++ start-up lines) for a block that may import TensorFlow."""
    return native_stderr_held_back()


@contextlib.contextmanager
def importing_in_background() -> Iterator[None]:
    """Import tensorflow on a thread while the block does I/O-bound work (reads release the GIL).

    The import holds fd 2 redirected (see native_stderr.py), so the block
    waits for it on exit: nothing the caller prints afterwards can be swallowed.
    """
    if "tensorflow" in sys.modules:
        yield
        return
    thread = threading.Thread(target=tf, name="graphsurgeon-tf-import", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


@functools.lru_cache(maxsize=None)
def tf() -> ModuleType:
    loaded = {name: module for name, module in sys.modules.items() if name.endswith("_pb2")}
    with native_stderr_held_back():
        import tensorflow
    for name, module in loaded.items():  # re-attach pb2 modules to the real packages
        parent, _, leaf = name.rpartition(".")
        if parent in sys.modules and not hasattr(sys.modules[parent], leaf):
            setattr(sys.modules[parent], leaf, module)
    return tensorflow




# ---------------------------------------------------------------- ops

def _cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "graphsurgeon"
    return Path(os.environ.get("GRAPHSURGEON_CACHE_DIR", default))


@functools.lru_cache(maxsize=None)
def _cached_op_defs() -> dict[str, Any]:
    """Every op TensorFlow registers, from a per-version cache file written on first use.

    Op definitions are all graphsurgeon needs of TensorFlow to load and cut a
    graph; caching them lets those commands skip TensorFlow's import.
    """
    path = _cache_dir() / f"op_defs-tf{tensorflow_version()}.binpb"
    if path.is_file():
        try:
            return {op.name: op for op in pb.op_def_pb2.OpList.FromString(path.read_bytes()).op}
        except Exception:  # a damaged cache is rebuilt, never trusted  # noqa: BLE001
            pass
    tf()
    from tensorflow.python.client import pywrap_tf_session

    data = pywrap_tf_session.TF_GetBuffer(pywrap_tf_session.TF_GetAllOpList())
    with contextlib.suppress(OSError):  # an unwritable cache only costs speed
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return {op.name: op for op in pb.op_def_pb2.OpList.FromString(data).op}


@functools.lru_cache(maxsize=None)
def op_def(op: str) -> Any:
    """The registered OpDef for ``op``, or None for unknown and function ops."""
    cached = _cached_op_defs().get(op)
    if cached is not None:
        return cached
    tf()  # ops registered after the cache was written (custom op libraries) are TensorFlow's to answer
    from tensorflow.python.framework import op_def_registry

    return op_def_registry.get(op)


@functools.cache
def cpu_kernel_dtypes(op: str) -> frozenset[int]:
    """DataType enums some CPU kernel of ``op`` accepts for a type constraint, asked of the kernel registry
    (not guessed: TF 2.21 has an Assign kernel for quint16 but none for qint16)."""
    tf()
    from tensorflow.python.framework import kernels

    found: set[int] = set()
    for kernel in kernels.get_registered_kernels_for_op(op).kernel:
        if kernel.device_type == "CPU":
            for constraint in kernel.constraint:
                found.update(constraint.allowed_values.list.type)
    return frozenset(found)


def variables_to_constants() -> Callable[..., Any]:
    """TensorFlow's convert_variables_to_constants_v2, which freezes TF2 signatures, tables and Keras 2 traces."""
    tf()
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    return convert_variables_to_constants_v2


# ---------------------------------------------------------------- checkpoints

def checkpoint_reader(pattern: str) -> Any:
    """TensorFlow's reader: index metadata now, tensor bytes on get_tensor()."""
    tf()
    from tensorflow.python.training import py_checkpoint_reader

    return py_checkpoint_reader.NewCheckpointReader(pattern)


def checkpoint_read_error() -> type[Any]:  # OpError, which has .message
    return tf().errors.OpError


# ---------------------------------------------------------------- running graphs

def seed_from_name(node_def: Any) -> None:
    """Give an unseeded random op (seed=seed2=0) seeds from its name, in place.

    Such an op draws a new sequence on every run; naming seeds after the node
    keeps initializer values identical across runs (freeze and verify agree).
    """
    if "seed" in node_def.attr and "seed2" in node_def.attr:
        if node_def.attr["seed"].i == 0 and node_def.attr["seed2"].i == 0:
            node_def.attr["seed"].i = 87654321
            node_def.attr["seed2"].i = zlib.crc32(node_def.name.encode()) & 0x7FFFFFFF


def _seeded(graph_def: Any) -> Any:
    """A copy whose unseeded random ops get seeds from their names (seed_from_name)."""
    out = pb.graph_pb2.GraphDef()
    out.CopyFrom(graph_def)
    for node in out.node:
        seed_from_name(node)
    return out


def _imported(graph_def: Any) -> Any:
    """A fresh tf.Graph holding ``graph_def`` under its own names."""
    graph = tf().Graph()
    with graph.as_default():
        tf().graph_util.import_graph_def(graph_def, name="")
    return graph


def run_graph(graph_def: Any, fetches: Sequence[str], feeds: Mapping[str, np.ndarray] | None = None,
              first: Sequence[str] = ()) -> list[np.ndarray]:
    """Run ``fetches`` (tensor names) of a GraphDef in a fresh TF1 Session, after the ops ``first`` (an initializer)."""
    graph = _imported(_seeded(graph_def))
    with native_stderr_held_back(), tf().compat.v1.Session(graph=graph) as session:
        for op in first:
            session.run(op)
        return session.run(list(fetches), feed_dict=dict(feeds or {}))


def static_shapes(graph_def: Any, tensors: Sequence[str]) -> list[list[int] | None]:
    """Static shapes TensorFlow infers for ``tensors`` (-1 unknown dim, None unknown rank)."""
    graph = _imported(graph_def)
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
    with native_stderr_held_back():
        t.raw_ops.SaveV2(prefix=prefix, tensor_names=list(names), shape_and_slices=[""] * len(names),
                         tensors=[t.convert_to_tensor(a) for a in arrays])


def tensorflow_version() -> str:
    """The installed TensorFlow's version, from package metadata (no import)."""
    import importlib.metadata

    return importlib.metadata.version("tensorflow")


# ---------------------------------------------------------------- Keras

def trace_keras(path: str, architecture: str | None, custom_objects: Mapping[str, Any],
                config_json: str | None = None) -> KerasTrace:
    """Trace a Keras 2 .h5 with tf_keras (see keras2_trace.py, the module that imports tf_keras)."""
    t = tf()
    with native_stderr_held_back():
        from graphsurgeon.tf import keras2_trace

        return keras2_trace.trace(t, variables_to_constants(), path, architecture, custom_objects, config_json)


from graphsurgeon.tf.keras_trace import KerasTrace, KerasTraceError, KerasTraceRequest  # noqa: E402  (the loader uses them through runtime)


def trace_keras3(request: KerasTraceRequest) -> Any:
    """Trace a Keras 3 model with its weights as placeholders (see keras3_trace.py, the module that imports keras)."""
    t = tf()
    refusal = None
    with native_stderr_held_back():
        from graphsurgeon.tf import keras3_trace

        try:
            return keras3_trace.trace(t, request)
        except KerasTraceError as err:
            refusal = err  # the user's error, raised below: TensorFlow's held-back start-up lines stay hidden
    raise refusal


# ---------------------------------------------------------------- TF2 SavedModels

def trace_saved_model(directory: str, tags: Sequence[str], keys: Sequence[str], updates_state: Callable[[str], bool],
                      side_effect: SideEffect | None = None,
                      ) -> tuple[Any, TracedSignatures, dict[str, Unflattenable], dict[str, CapturedResource]]:
    """Flatten signatures ``keys`` of a TF2 SavedModel together into one graph, variables as constants.

    One tf.function calls every signature, so the converter inlines them all and
    turns each captured variable into ONE constant the signatures share. Inputs
    with the same key and spec in several signatures share one placeholder
    (named after the key; otherwise SIGNATURE_KEY). Returns (GraphDef or None,
    {key: ([(input key, placeholder name)], [(output key, tensor name)])},
    {key: Unflattenable}, {placeholder name: what it captured}) where refused keys
    (sparse/ragged inputs, ops ``updates_state`` picks, ops ``side_effect`` names a side effect of:
    ``side_effect(op, path_fed)`` is ir.ops.side_effect) are left out of the graph.
    Functional While/If are kept. The last part names the resource and variant
    captures the converter could not freeze (left as placeholders nothing feeds).
    """
    t = tf()
    convert_variables_to_constants_v2 = variables_to_constants()
    with native_stderr_held_back():
        try:
            loaded = t.saved_model.load(directory, tags=list(tags))
        except Exception as err:  # noqa: BLE001 - TensorFlow's loader raises any type on a damaged SavedModel
            raise SavedModelLoadFailed(err) from err
        functions = {key: loaded.signatures[key] for key in keys}
        refused = {key: r for key, r in ((key, _refusal(t, f, updates_state, side_effect)) for key, f in functions.items())
                   if r is not None}
        kept = [key for key in keys if key not in refused]
        if not kept:
            return None, {}, refused, {}
        placeholders = shared_placeholders({key: functions[key].structured_input_signature[1] for key in kept})
        specs = sorted({name: spec for name, spec in placeholders.values()}.items())
        position = {name: i for i, (name, _) in enumerate(specs)}

        def call_all(*args: Any) -> list[Any]:
            results: list[Any] = []
            for key in kept:
                feeds = {k: args[position[placeholders[key, k][0]]]
                         for k in functions[key].structured_input_signature[1]}
                outputs = functions[key](**feeds)
                # Identity, Identity_1, ...: the names a tf.function's outputs get (and older exports used).
                results.extend(t.identity(outputs[name]) for name in sorted(outputs))
            return results

        signature = [t.TensorSpec(spec.shape, spec.dtype, name=name) for name, spec in specs]
        # wrap_function, not tf.function: a tf.function's automatic control dependencies would make every
        # output wait for every signature's call, so one signature could not run without all the inputs.
        concrete = t.compat.v1.wrap_function(call_all, signature)
        # Aggressive inlining: without a tf.function's control outputs Grappler keeps stateful calls
        # un-inlined; it is safe here because signatures that update state were refused above.
        frozen = convert_variables_to_constants_v2(concrete, lower_control_flow=False, aggressive_inlining=True)
        captured = _unfrozen_captures(t, loaded, concrete)
    tensors = iter(o.name for o in frozen.outputs)
    traced = {}
    for key in kept:
        output_keys = sorted(functions[key].structured_outputs)
        inputs = [(k, placeholders[key, k][0]) for k in sorted(functions[key].structured_input_signature[1])]
        traced[key] = (inputs, [(k, next(tensors)) for k in output_keys])
    return frozen.graph.as_graph_def(), traced, refused, captured


def _unfrozen_captures(t: ModuleType, loaded: Any, concrete: Any) -> dict[str, CapturedResource]:
    """{placeholder name: what it captured} for each resource or variant the traced function captures.

    Variables among them become constants; the loader asks which of the rest
    a signature still reads. A lookup table is named with its place in the
    SavedModel's object graph, so the user can tell which one it is.
    """
    from tensorflow.python.checkpoint import graph_view

    objects, paths = graph_view.ObjectGraphView(loaded).breadth_first_traversal()
    owners = {id(obj._resource_handle_value): obj for obj in objects
              if getattr(obj, "_resource_handle_value", None) is not None}
    captured = {}
    for external, internal in concrete.graph.captures:
        if external.dtype in (t.resource, t.variant):
            owner = owners.get(id(external))
            where = ".".join(ref.name for ref in paths.get(owner, ())) if owner is not None else ""
            description = what_resource(owner) + (f" at {where!r} in the SavedModel" if where else "")
            table, initializer = _table_parts(t, owner)
            captured[internal.op.name] = CapturedResource(description, table, initializer)
    return captured


def _table_parts(t: ModuleType, owner: Any) -> tuple[Any, Any]:
    """(HashTableV2 NodeDef, frozen initializer GraphDef) of a restored hash table, or (None, None)."""
    convert_variables_to_constants_v2 = variables_to_constants()
    creator: Any = getattr(owner, "_create_resource", None)
    initialize = getattr(owner, "_initialize", None)
    if not hasattr(creator, "concrete_functions") or not callable(initialize):
        return None, None
    tables = [n for c in creator.concrete_functions for n in nodes_and_function_nodes(c.graph.as_graph_def())
              if n.op == "HashTableV2"]
    if len(tables) != 1:
        return None, None
    try:
        wrapped = t.compat.v1.wrap_function(initialize, [])
        frozen = convert_variables_to_constants_v2(wrapped, lower_control_flow=False, aggressive_inlining=True)
    except (ValueError, TypeError, t.errors.OpError):  # an initializer TF cannot trace alone: the table is refused
        return None, None
    return tables[0], frozen.graph.as_graph_def()


def _refusal(t: ModuleType, function: Any, updates_state: Callable[[str], bool],
             side_effect: SideEffect | None = None) -> Unflattenable | None:
    composite = sorted(name for name, spec in function.structured_input_signature[1].items()
                       if not isinstance(spec, t.TensorSpec))
    if composite:
        return Unflattenable("composite inputs", composite)
    # Look for state updates first: the converter cannot freeze them (it fails on their resource inputs).
    called = function.graph.as_graph_def()
    nodes = list(called.node) + [n for f in called.library.function for n in f.node_def]
    stateful = sorted({n.op for n in nodes if updates_state(n.op)})
    if stateful:
        return Unflattenable("state updates", stateful)
    effects = side_effects(called, side_effect) if side_effect is not None else []
    return Unflattenable("side effects", effects) if effects else None
