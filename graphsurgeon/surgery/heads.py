"""add_top_k(model, output, k): a classification head on a logits or probabilities output.

Adds softmax (unless the output already is one), TopKV2, and outputs `classes`
(int64) and `probabilities`; with a labels file, `labels` (string) looked up in
an index-to-string table built from the file as an asset. The table is
initialized by the export's ordered init op, after the asset path is fed.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from graphsurgeon.errors import UsageError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Node
from graphsurgeon.ir.model import Asset, Model
from graphsurgeon.ir.ops import LINE_NUMBER, WHOLE_LINE
from graphsurgeon.ir.resolve import Resolver
from graphsurgeon.ir.types import output_dtype
from graphsurgeon.names import TensorRef
from graphsurgeon.tf.protos import pb

SCOPE = "classification_head"
OUTPUTS = ("classes", "probabilities", "labels")  # the head's output nodes (labels only with a labels file)
PROBABILITY_OPS = frozenset({"Softmax", "Sigmoid"})


def _attr(**kwargs: Any) -> Any:
    return pb.attr_value_pb2.AttrValue(**kwargs)


def add_top_k(model: Model, output: str | TensorRef, k: int, *, logits: bool | None = None,
              labels: str | None = None) -> Model:
    """``output`` (a TensorRef from a Plan, or a name to resolve) replaced by classes/probabilities (and labels)
    of its top ``k`` entries.

    ``logits`` None decides from the graph: an output computed by Softmax or
    Sigmoid is taken as probabilities, anything else as logits.
    """
    model.require_graph("add a classification head to")
    ref = output if isinstance(output, TensorRef) else Resolver(model).tensor(output, "--top-k output")
    if k < 1:
        raise UsageError(f"--top-k must be at least 1, not {k}")
    float_type = _attr(type=dt.base(output_dtype(model.graph[ref.node], ref.port, model.graph)))
    if logits is None:
        logits = model.graph[model.graph.source(ref).node].op not in PROBABILITY_OPS
    scores = ref
    nodes = []
    if logits:
        nodes.append(Node(f"{SCOPE}/softmax", "Softmax", (ref,), attrs={"T": float_type}))
        scores = TensorRef(nodes[-1].name)
    k_const = const_node(f"{SCOPE}/k", np.int32(k), dt.enum_of("int32"))
    top_k = Node(f"{SCOPE}/top_k", "TopKV2", (scores, TensorRef(k_const.name)),
                 attrs={"T": float_type, "sorted": _attr(b=True)})
    classes = Node(OUTPUTS[0], "Cast", (TensorRef(top_k.name, 1),), attrs={
        "SrcT": _attr(type=dt.enum_of("int32")), "DstT": _attr(type=dt.enum_of("int64")),
        "Truncate": _attr(b=False)})
    probabilities = Node(OUTPUTS[1], "Identity", (TensorRef(top_k.name),), attrs={"T": float_type})
    nodes += [k_const, top_k, classes, probabilities]
    outputs = [r for r in model.outputs if r != ref] + [TensorRef(OUTPUTS[0]), TensorRef(OUTPUTS[1])]
    model = _with_nodes(model, nodes)
    if labels is not None:
        model = _labels(model, labels)
        outputs.append(TensorRef(OUTPUTS[2]))
    return model.replace(outputs=tuple(outputs))


def _with_nodes(model: Model, nodes: list[Node]) -> Model:
    taken = [n.name for n in nodes if n.name in model.graph]
    if taken:
        raise UsageError(f"the model already has a node named {taken[0]!r}; the classification head needs that name")
    return model.replace(graph=model.graph.with_nodes([*model.graph, *nodes]))


def _labels(model: Model, path: str) -> Model:
    if not os.path.isfile(path):
        raise UsageError(f"--labels {path}: no such file; give a text file with one label per line")
    string, int64 = dt.enum_of("string"), dt.enum_of("int64")
    filename = os.path.basename(path)
    asset_path = const_node(f"{SCOPE}/labels_path", filename.encode(), string)
    table = Node(f"{SCOPE}/labels_table", "HashTableV2", attrs={
        "key_dtype": _attr(type=int64), "value_dtype": _attr(type=string), "container": _attr(s=b""),
        "shared_name": _attr(s=f"{SCOPE}/labels_table".encode()), "use_node_name_sharing": _attr(b=False)})
    init = Node(f"{SCOPE}/labels_init", "InitializeTableFromTextFileV2",
                (TensorRef(table.name), TensorRef(asset_path.name)), attrs={
                    "key_index": _attr(i=LINE_NUMBER), "value_index": _attr(i=WHOLE_LINE),
                    "vocab_size": _attr(i=-1), "delimiter": _attr(s=b"\t"), "offset": _attr(i=0)})
    default = const_node(f"{SCOPE}/unknown_label", b"UNKNOWN", string)
    lookup = Node(OUTPUTS[2], "LookupTableFindV2", (TensorRef(table.name), TensorRef(OUTPUTS[0]), TensorRef(default.name)),
                  attrs={"Tin": _attr(type=int64), "Tout": _attr(type=string)})
    model = _with_nodes(model, [asset_path, table, init, default, lookup])
    return model.replace(assets=(*model.assets, Asset(TensorRef(asset_path.name), filename, os.path.abspath(path))),
                         init_ops=(*model.init_ops, init.name))
