"""Variables that hold an asset's path, replaced by the asset tensor itself.

TF1 models often copy an asset path into a variable and build tables from the
variable. Serving feeds the asset tensor with the file's real location at load
time, but the variable keeps the path from the training machine (or none at
all, and its initializer races the table's: tensorflow/serving#1437). Reading
the asset tensor directly is both correct and race-free.
"""
from __future__ import annotations

from collections.abc import Iterable

from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery import initializers


def asset_path_variables(model: Model, variables: Iterable[Node]) -> dict[str, TensorRef]:
    """Variable name -> the asset tensor its initial value is (through Identity nodes)."""
    asset_tensors = {a.tensor for a in model.assets}
    if not asset_tensors:
        return {}
    out = {}
    for variable in variables:
        initial = initializers.initial_value_or_none(model, variable.name)
        if initial is not None and _through_identities(model.graph, initial) in asset_tensors:
            out[variable.name] = _through_identities(model.graph, initial)
    return out


def _through_identities(graph: Graph, ref: TensorRef) -> TensorRef:
    node = graph[ref.node]
    while node.op == "Identity" and node.inputs:
        ref = node.inputs[0]
        node = graph[ref.node]
    return ref


def substitute_asset_paths(graph: Graph, paths: dict[str, TensorRef]) -> Graph:
    """Ref variables become Identity(asset); a resource variable's reads do."""
    if not paths:
        return graph
    nodes = []
    for node in graph:
        if node.name in paths and node.op != "VarHandleOp":
            nodes.append(_identity(node.name, paths[node.name]))
        elif node.op == "ReadVariableOp" and node.inputs and node.inputs[0].node in paths:
            nodes.append(_identity(node.name, paths[node.inputs[0].node], node.control_inputs))
        else:
            nodes.append(node)
    return graph.with_nodes(nodes)


def _identity(name: str, source: TensorRef, control_inputs=()) -> Node:
    from graphsurgeon import _tf

    attrs = {"T": _tf.pb.attr_value_pb2.AttrValue(type=_tf.dtype_enum("string"))}
    return Node(name, "Identity", (source,), tuple(control_inputs), attrs)


def carry_all_assets(model: Model, source: Model) -> Model:
    """Add the source's other assets (a re-export ships the whole package); missing files are skipped with a warning.

    Assets the kept graph reads are already in ``model`` and must exist; these
    extra ones are not read by it, so a missing one is not fatal.
    """
    import logging
    import os

    log = logging.getLogger(__name__)
    have = {a.tensor for a in model.assets}
    nodes, assets = list(model.graph), list(model.assets)
    for asset in source.assets:
        if asset.tensor in have:
            continue
        if not os.path.isfile(asset.path):
            log.warning("asset %s (%s) is missing and not read by the exported graph; it is left out",
                        asset.filename, asset.path)
            continue
        if asset.tensor.node not in model.graph:
            nodes.append(source.graph[asset.tensor.node].replace(control_inputs=()))
        assets.append(asset)
    return model.replace(graph=model.graph.with_nodes(nodes), assets=tuple(assets))
