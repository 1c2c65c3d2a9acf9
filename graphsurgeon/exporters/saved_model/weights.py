"""Which tensors live in variables/, the graph that restores them, and writing them in bounded batches.

Large constants become VariableV2 nodes restored by the loader, so saved_model.pb
stays small whatever the model size; constants under the inline limit stay in
the graph. Variables the model still has (frozen or not) are restored the same way.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from graphsurgeon.errors import WriteError
from graphsurgeon.exporters.bundle_writer import BundleWriter
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.formats import saved_model as layout
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import INIT_ASSIGN_OPS, VARIABLE_OPS
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.ir.types import const_nbytes
from graphsurgeon.ir.weights import array_chunks
from graphsurgeon.names import TensorRef
from graphsurgeon.tf import runtime
from graphsurgeon.tf.runtime import cpu_kernel_dtypes
from graphsurgeon.tf.protos import pb, shape_proto

SAVE_SCOPE = "save"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Restored:
    """One tensor in variables/: its checkpoint key, the variable node, and where its value is."""

    key: str
    variable: str
    resource: bool
    nbytes: int
    weight: str | None = None  # key in the model's WeightStore ...
    inline: Any = None  # ... or the TensorProto of an inline constant


def to_restored_variables(model: Model, inline_limit: int) -> tuple[Model, list[Restored]]:
    """Constants of ``inline_limit`` bytes or more become variables; returns the model and what to restore."""
    nodes: list[Node] = []
    restored: list[Restored] = []
    # Variables the init op assigns (asset paths) are set at load time, not restored.
    assigned = {model.graph[op].inputs[0].node for op in model.init_ops
                if model.graph[op].op in INIT_ASSIGN_OPS}
    for node in model.graph:
        if node.op == "Const" and const_nbytes(node, model.weights) >= inline_limit and _numeric(node):
            variable = Node(node.name + "/variable", "VariableV2", attrs={
                "dtype": node.attrs["dtype"], "shape": pb.attr_value_pb2.AttrValue(shape=_shape(node, model))})
            nodes += [variable, Node(node.name, "Identity", (TensorRef(variable.name),), node.control_inputs,
                                     {"T": node.attrs["dtype"]})]
            inline = None if node.weight is not None else node.attrs["value"].tensor
            restored.append(Restored(node.name, variable.name, False, const_nbytes(node, model.weights),
                                     node.weight, inline))
        else:
            nodes.append(node)
            if node.op in VARIABLE_OPS and node.name not in assigned:
                restored.append(_kept_variable(model, node))
    return model.replace(graph=model.graph.with_nodes(nodes)), restored


def _kept_variable(model: Model, node: Node) -> Restored:
    """A variable the model still has: restored from the source checkpoint's value."""
    key = model.checkpoint_key(node.name)
    if key not in model.weights:
        raise WriteError(
            f"variable {node.name!r} has no value in {model.source.checkpoint or 'the source (no checkpoint)'}, "
            "so the export could not restore it; load the model with its checkpoint, or freeze with "
            "--init-from-initializers"
        )
    return Restored(key, node.name, node.op == "VarHandleOp", model.weights[key].nbytes, key)


def _numeric(node: Node) -> bool:
    """Whether a constant can live in variables/: fixed-width values that a VariableV2 can be restored into
    (TensorFlow has no Assign kernel for some quantized types, qint16 among them: those stay in the graph).
    Only quantized types are looked up, so that asking TensorFlow's kernel registry, which imports it, is
    rare and the import still overlaps the weight streaming."""
    dtype = dt.base(node.attrs["dtype"].type)
    return dt.itemsize(dtype) > 0 and (dtype not in dt.QUANTIZED or dtype in cpu_kernel_dtypes("Assign"))


def _shape(node: Node, model: Model) -> Any:
    if node.weight is not None:
        return shape_proto(model.weights[node.weight].shape)
    return node.attrs["value"].tensor.tensor_shape


def add_saver(graph: Graph, restored: list[Restored]) -> tuple[Graph, object | None]:
    """Restore (and save) ops for ``restored`` and the SaverDef that names them."""
    if not restored:
        return graph, None
    string = dt.enum_of("string")
    names = [r.key for r in restored]
    dtypes = [graph[r.variable].attrs["dtype"].type for r in restored]
    new = [
        const_node(f"{SAVE_SCOPE}/filename", b"model", string),
        const_node(f"{SAVE_SCOPE}/tensor_names", names, string),
        const_node(f"{SAVE_SCOPE}/shape_and_slices", [""] * len(names), string),
    ]
    dtype_list = pb.attr_value_pb2.AttrValue(list=pb.attr_value_pb2.AttrValue.ListValue(type=dtypes))
    prefix, tensor_names, slices = (TensorRef(n.name) for n in new)
    new.append(Node(f"{SAVE_SCOPE}/RestoreV2", "RestoreV2", (prefix, tensor_names, slices), attrs={"dtypes": dtype_list}))
    assigns = [_assign(r, i, graph) for i, r in enumerate(restored)]
    new += assigns
    new.append(Node(f"{SAVE_SCOPE}/restore_all", "NoOp", control_inputs=tuple(a.name for a in assigns)))
    new += _save_ops(restored, dtype_list, prefix, tensor_names, slices)
    saver_def = pb.saver_pb2.SaverDef(
        filename_tensor_name=f"{SAVE_SCOPE}/filename:0", save_tensor_name=f"{SAVE_SCOPE}/control_dependency:0",
        restore_op_name=f"{SAVE_SCOPE}/restore_all", max_to_keep=5, sharded=False,
        keep_checkpoint_every_n_hours=10000.0, version=pb.saver_pb2.SaverDef.V2)
    return graph.with_nodes([*graph, *new]), saver_def


def _assign(r: Restored, index: int, graph: Graph) -> Node:
    value = TensorRef(f"{SAVE_SCOPE}/RestoreV2", index)
    dtype = graph[r.variable].attrs["dtype"]
    if r.resource:
        return Node(f"{SAVE_SCOPE}/Assign_{index}", "AssignVariableOp", (TensorRef(r.variable), value),
                    attrs={"dtype": dtype})
    flag = pb.attr_value_pb2.AttrValue(b=True)
    return Node(f"{SAVE_SCOPE}/Assign_{index}", "Assign", (TensorRef(r.variable), value),
                attrs={"T": dtype, "validate_shape": flag, "use_locking": flag})


def _save_ops(restored: list[Restored], dtype_list: Any, prefix: TensorRef, tensor_names: TensorRef,
              slices: TensorRef) -> list[Node]:
    reads = []
    for i, r in enumerate(restored):
        if r.resource:
            reads.append(Node(f"{SAVE_SCOPE}/Read_{i}", "ReadVariableOp", (TensorRef(r.variable),),
                              attrs={"dtype": pb.attr_value_pb2.AttrValue(type=dtype_list.list.type[i])}))
    read_refs = iter(TensorRef(n.name) for n in reads)
    tensors = tuple(next(read_refs) if r.resource else TensorRef(r.variable) for r in restored)
    save = Node(f"{SAVE_SCOPE}/SaveV2", "SaveV2", (prefix, tensor_names, slices, *tensors), attrs={"dtypes": dtype_list})
    done = Node(f"{SAVE_SCOPE}/control_dependency", "Identity", (prefix,), (save.name,),
                {"T": pb.attr_value_pb2.AttrValue(type=dt.enum_of("string"))})
    return [*reads, save, done]


def write_variables(model: Model, restored: list[Restored], version_dir: Path, progress: Progress | None = None) -> None:
    """VERSION_DIR/variables/variables.{index,data-00000-of-00001}, streamed tensor by tensor in bounded chunks.

    Memory holds one chunk, never the model (nor one whole tensor when its
    source is a checkpoint). String tensors, which need TensorFlow's string
    encoding, go through TensorFlow's own writer instead.
    """
    if not restored:
        return
    prefix = layout.variables_prefix(version_dir)
    prefix.parent.mkdir()
    if any(dt.itemsize(_dtype(model, r)) == 0 for r in restored):
        _save(str(prefix), restored, model)
        return
    total, done = sum(r.nbytes for r in restored), 0
    writer = BundleWriter(str(prefix))
    try:
        for r in restored:
            done += writer.add(r.key, _dtype(model, r), _restored_shape(model, r), _chunks(model, r))
            if progress is not None:
                progress(done, total)
    finally:
        writer.finish()


def _dtype(model: Model, r: Restored) -> int:
    return dt.base(model.graph[r.variable].attrs["dtype"].type)


def _restored_shape(model: Model, r: Restored) -> tuple[int, ...]:
    if r.weight is not None:
        return model.weights[r.weight].shape
    return tuple(d.size for d in r.inline.tensor_shape.dim)


def _chunks(model: Model, r: Restored) -> Iterator[memoryview | bytes]:
    if r.weight is not None:
        return model.weights.chunks(r.weight)
    return array_chunks(to_array(r.inline))


def _save(prefix: str, batch: list[Restored], model: Model) -> None:
    try:
        runtime.save_tensors(prefix, [b.key for b in batch], [_value(model, b) for b in batch])
        return
    except runtime.checkpoint_read_error() as err:
        message = err.message.splitlines()[0]
    raise WriteError(f"writing variables failed: {message}; check free space and permissions")


def _value(model: Model, r: Restored) -> np.ndarray:
    if r.weight is not None:
        return model.weights.read(r.weight)
    return to_array(r.inline)
