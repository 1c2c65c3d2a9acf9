"""Keras preprocessing lookups (StringLookup, IntegerLookup, TextVectorization) as tables over asset files.

Traced in a TF1 graph, a Keras lookup layer builds a HashTableV2 filled by
LookupTableImportV2 from two constants: the vocabulary and its indices (a
Range). Serving would carry the vocabulary inside the graph and the table's
shared_name is a fresh UUID each run. Here each such table is instead filled
by InitializeTableFromTextFileV2 from a vocabulary file shipped in assets/
(one token per line, index = line number + offset), run by the ordered init
op, and its shared_name is the node's own name, so exports are repeatable.
A vocabulary a text file cannot hold (a token with a line break) keeps its
constants. A table nothing reads loses its initializer, so it and its
vocabulary are pruned: TextVectorization loads its vocabulary twice, once
through itself and once through its inner StringLookup, and the first table
is dropped.

One mode is refused before tracing: output_mode="tf_idf", whose layer reads
its IDF weights as numbers while it loads its vocabulary (see refuse_untraceable).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from graphsurgeon.errors import LoadError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Asset, Model
from graphsurgeon.ir.ops import LINE_NUMBER, WHOLE_LINE
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.loaders.keras.h5 import layer_dicts
from graphsurgeon.names import TensorRef
from graphsurgeon.tf.protos import pb

SCOPE = "graphsurgeon_keras_vocabularies"
TABLE_OPS = frozenset({"HashTableV2", "MutableHashTableV2"})
LOOKUP_LAYERS = frozenset({"StringLookup", "IntegerLookup", "TextVectorization"})


def refuse_untraceable(config: dict, source: str) -> None:
    """One line naming a lookup layer whose mode cannot be traced into a graph, before Keras runs."""
    for layer in layer_dicts(config):
        settings = layer.get("config") or {}
        if layer.get("class_name") in LOOKUP_LAYERS and settings.get("output_mode") == "tf_idf":
            raise LoadError(
                f"{source}: layer {settings.get('name')!r} is a {layer['class_name']} with output_mode='tf_idf', "
                "which graphsurgeon cannot trace: Keras reads its IDF weights as numbers while it loads the "
                "vocabulary, and a trace reads no weights; serve the SavedModel Keras writes with "
                "model.export(dir) instead, or use output_mode='count' and weigh the counts in a layer after it")


def _attr(**kwargs: Any) -> object:
    return pb.attr_value_pb2.AttrValue(**kwargs)


def tables_from_assets(model: Model, assets_dir: str) -> Model:
    """``model`` with its Keras vocabulary imports turned into text-file initializers over files in ``assets_dir``."""
    graph, nodes, assets, init_ops = model.graph, {n.name: n for n in model.graph}, list(model.assets), []
    read = _tables_read(graph)
    for init in model.init_ops:
        node = graph[init]
        if node.op == "LookupTableImportV2" and node.inputs[0].node not in read:
            continue  # a table nothing looks up in
        vocabulary = _vocabulary(graph, node) if node.op == "LookupTableImportV2" else None
        if vocabulary is None:
            init_ops.append(init)
            continue
        keys, offset = vocabulary
        filename = f"{node.inputs[0].node.replace('/', '_')}_vocabulary.txt"
        (Path(assets_dir) / filename).write_bytes(b"\n".join(keys) + b"\n")
        path = const_node(f"{SCOPE}/{len(assets)}", filename.encode(), dt.enum_of("string"))
        nodes[path.name] = path
        nodes[init] = Node(init, "InitializeTableFromTextFileV2", (node.inputs[0], TensorRef(path.name)), attrs={
            "key_index": _attr(i=WHOLE_LINE), "value_index": _attr(i=LINE_NUMBER), "vocab_size": _attr(i=len(keys)),
            "delimiter": _attr(s=b"\t"), "offset": _attr(i=offset)})
        assets.append(Asset(TensorRef(path.name), filename, str(Path(assets_dir) / filename)))
        init_ops.append(init)
    for name, node in nodes.items():
        if node.op in TABLE_OPS:  # a UUID per run otherwise
            nodes[name] = node.replace(attrs={**node.attrs, "shared_name": _attr(s=name.encode())})
    return model.replace(graph=graph.with_nodes(nodes.values()), assets=tuple(assets), init_ops=tuple(init_ops))


def _tables_read(graph: Graph) -> set[str]:
    """Table nodes some node other than a LookupTableImportV2 (a find, a size, an export) takes as input."""
    return {ref.node for node in graph if node.op != "LookupTableImportV2" for ref in node.inputs}


def _vocabulary(graph: Graph, node: Node) -> tuple[list[bytes], int] | None:
    """(tokens as bytes, index of the first) when the import is tokens -> a contiguous index range."""
    keys, offset = _constant(graph, node.inputs[1]), _range_start(graph, node.inputs[2])
    if keys is None or offset is None or keys.ndim != 1 or len(keys) == 0:
        return None
    tokens = [k if isinstance(k, bytes) else str(k).encode() for k in keys.tolist()]
    if any(b"\n" in t or b"\r" in t for t in tokens):
        return None
    return tokens, offset


def _constant(graph: Graph, ref: TensorRef) -> np.ndarray | None:
    node = graph.get(ref.node)
    if node is None or node.op != "Const" or node.weight is not None:
        return None
    return to_array(node.attrs["value"].tensor)


def _range_start(graph: Graph, ref: TensorRef) -> int | None:
    """The first index when the values are a step-1 Range (how Keras writes them), or a Const equal to one.

    A Range's length is the keys' length (the import fails at run time otherwise), so its limit is not needed.
    """
    node = graph.get(ref.node)
    if node is not None and node.op == "Range":
        start, delta = _constant(graph, node.inputs[0]), _constant(graph, node.inputs[2])
        if start is not None and delta is not None and start.ndim == 0 and delta.item() == 1:
            return int(start.item())
        return None
    values = _constant(graph, ref)
    if values is None or values.ndim != 1 or values.dtype.kind not in "iu" or len(values) == 0:
        return None
    return int(values[0]) if np.array_equal(values, np.arange(values[0], values[0] + len(values))) else None
