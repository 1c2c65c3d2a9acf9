"""What a source runs once after restoring, and which files it reads: from collections and AssetFileDefs.

Init ops are found wherever the graph runs them: the init collections and the
SavedModel init signature, and also groups a MetaGraph-only author ran by hand
(a NoOp named like ``init_all``, or held in a Scaffold's ``init_op`` /
``local_init_op`` collection). From those, the variables' own initializers are
left out (a checkpoint restores those variables); assignments of anything else
(asset paths into variables made with ``collections=[]``), tables and the rest stay.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.model import Asset
from graphsurgeon.ir.signatures import INIT_SIGNATURE
from graphsurgeon.ir.variable_defs import VARIABLE_COLLECTIONS
from graphsurgeon.names import TensorRef
from graphsurgeon.tf.protos import pb

# The collections TensorFlow's SavedModel loader runs an init op from (loader_util.cc GetInitOp, after the
# __saved_model_init_op signature): a SavedModel must name exactly one op across them.
LOADER_INIT_COLLECTIONS = ("saved_model_main_op", "legacy_init_op")
# Every collection a source keeps init ops in: the loader's, and those older exporters and Estimators used
# (in this order, which is the order their ops are found in).
MAIN_OP, LEGACY_INIT_OP = LOADER_INIT_COLLECTIONS
INIT_COLLECTIONS = (MAIN_OP, "main_op", LEGACY_INIT_OP, "table_initializer", "serving_init_op")
# Hold the global/local variables initializers: only their non-initializer members are init ops.
SCAFFOLD_COLLECTIONS = ("init_op", "local_init_op")
INIT_NAME = re.compile(r"init", re.IGNORECASE)  # in the last part of a NoOp's name: init, init_all, initialize


def init_ops(graph: Graph, collections: dict, signatures: dict) -> tuple[str, ...]:
    """The individual init ops (NoOp groups expanded), in a stable order."""
    roots: list[str] = []
    for key in INIT_COLLECTIONS:
        collection = collections.get(key)
        if collection is not None and collection.WhichOneof("kind") == "node_list":
            roots += [TensorRef.parse(v.lstrip("^")).node for v in collection.node_list.value]
    if INIT_SIGNATURE in signatures:
        roots += [TensorRef.parse(t.name).node for t in signatures[INIT_SIGNATURE].outputs.values()]
    found = expand_groups(graph, roots)
    initializers = _variable_initializers(collections)
    found += [name for name in expand_groups(graph, _marked_groups(graph, collections)) if name not in initializers]
    return tuple(dict.fromkeys(found))


def _marked_groups(graph: Graph, collections: dict) -> list[str]:
    """NoOp groups whose collection or name marks them as initializers, outermost first."""
    marked = [TensorRef.parse(v.lstrip("^")).node for key in SCAFFOLD_COLLECTIONS
              for v in _node_list(collections, key)]
    candidates = [name for name, op in graph.name_ops() if op == "NoOp" and INIT_NAME.search(name.rsplit("/", 1)[-1])]
    named = [name for name in candidates if not graph[name].inputs and graph[name].control_inputs]
    inner = {c for name in named for c in graph[name].control_inputs}
    return marked + [name for name in named if name not in inner]


def _node_list(collections: dict, key: str) -> list[str]:
    collection = collections.get(key)
    if collection is None or collection.WhichOneof("kind") != "node_list":
        return []
    return list(collection.node_list.value)


def _variable_initializers(collections: dict) -> set[str]:
    """The initializer op of every variable a VariableDef collection lists."""
    names = set()
    for key in VARIABLE_COLLECTIONS:
        collection = collections.get(key)
        if collection is None or collection.WhichOneof("kind") != "bytes_list":
            continue
        for raw in collection.bytes_list.value:
            names.add(TensorRef.parse(pb.variable_pb2.VariableDef.FromString(raw).initializer_name).node)
    return names


def expand_groups(graph: Graph, roots: Iterable[str]) -> list[str]:
    """Replace every NoOp (a tf.group) by its control inputs, iteratively, keeping first-seen order."""
    out: list[str] = []
    seen: set[str] = set()
    stack = list(reversed(list(roots)))
    while stack:
        name = stack.pop()
        if name in seen or name not in graph:
            continue
        seen.add(name)
        node = graph[name] if graph.op_of(name) == "NoOp" else None  # groups hold thousands of assigns: not built
        if node is not None and not node.inputs:
            stack.extend(reversed(node.control_inputs))
        else:
            out.append(name)
    return out


def assets_from_collection(graph: Graph, collections: dict) -> list[Asset]:
    """TF1 assets: string Consts in the asset_filepaths collection, holding the original path."""
    collection = collections.get("asset_filepaths")
    if collection is None or collection.WhichOneof("kind") != "node_list":
        return []
    out = []
    for value in collection.node_list.value:
        ref = TensorRef.parse(value)
        node = graph.get(ref.node)
        if node is None or node.op != "Const":
            continue
        path = node.attrs["value"].tensor.string_val[0].decode("utf-8", "replace")
        out.append(Asset(ref, os.path.basename(path), path))
    return out


def assets_from_defs(asset_file_defs: Iterable[Any], assets_dir: str) -> list[Asset]:
    """SavedModel assets: AssetFileDefs naming a tensor and a file under assets/."""
    return [Asset(TensorRef.parse(d.tensor_info.name), d.filename, os.path.join(assets_dir, d.filename))
            for d in asset_file_defs]


def legacy_asset_defs(collections: dict) -> list[Any]:
    """AssetFileDefs packed in the saved_model_assets collection by TF 1.x SavedModelBuilder."""
    collection = collections.get("saved_model_assets")
    if collection is None or collection.WhichOneof("kind") != "any_list":
        return []
    defs = []
    for packed in collection.any_list.value:
        asset = pb.meta_graph_pb2.AssetFileDef()
        if packed.Unpack(asset):
            defs.append(asset)
    return defs


def merge_assets(*groups: Iterable[Asset]) -> tuple[Asset, ...]:
    """One Asset per tensor: the first source to name a tensor wins."""
    by_tensor: dict[TensorRef, Asset] = {}
    for group in groups:
        for asset in group:
            by_tensor.setdefault(asset.tensor, asset)
    return tuple(by_tensor.values())
