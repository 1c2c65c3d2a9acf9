"""Variables that hold an asset's path.

TF1 models copy an asset path into a variable, read files through it at serving
time, and build tables from it at init time. The loader feeds asset tensors with
the files' real locations only while it runs the init op. So such a variable is
never frozen or restored (its saved value is a path on the training machine):
the init op assigns it from the asset tensor, and init-time readers such as
table initializers read the asset tensor directly, which cannot race that
assignment (tensorflow/serving#1437).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import INIT_ASSIGN_OPS
from graphsurgeon.ir.types import variable_behind
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery import initializers

log = logging.getLogger(__name__)


def asset_path_variables(model: Model, variables: Iterable[Node]) -> dict[str, TensorRef]:
    """Variable name -> the asset tensor its initial value is (through Identity nodes)."""
    asset_tensors = {a.tensor for a in model.assets}
    if not asset_tensors:
        return {}
    out = {}
    for variable in variables:
        initial = initializers.initial_value_or_none(model, variable.name)
        if initial is not None and model.graph.source(initial) in asset_tensors:
            out[variable.name] = model.graph.source(initial)
    return out


def asset_path_assigns(model: Model, paths: dict[str, TensorRef]) -> tuple[str, ...]:
    """Assignments of asset paths the init ops do not run yet (variables made with collections=[] and
    assigned by a group the author ran by hand): they become init ops, so the export assigns them."""
    init = set(model.init_ops)
    out = []
    for variable, asset in paths.items():
        assigns = [n for n in initializers.value_assigns(model.graph, variable)
                   if model.graph.source(n.inputs[1]) == asset]
        if assigns and not any(a.name in init for a in assigns):
            out.append(assigns[0].name)
    return tuple(out)


def read_assets_in_init(graph: Graph, init_ops: Iterable[str], paths: dict[str, TensorRef]) -> Graph:
    """Init ops (table initializers) that read a path variable read the asset tensor instead.

    The loader feeds asset tensors while it runs the init op, so this is the
    right path, and it cannot race the stage that assigns the variable.
    """
    if not paths:
        return graph
    changes = {}
    for node in graph.nodes_in(set(init_ops)):  # only the init ops: a cut's graph builds no other node here
        if node.op not in INIT_ASSIGN_OPS:
            inputs = tuple(paths.get(variable_behind(graph, ref), ref) for ref in node.inputs)
            if inputs != node.inputs:
                changes[node.name] = [node.replace(inputs=inputs)]
    return graph.edited(changes)


def carry_all_assets(model: Model, source: Model) -> Model:
    """Add the source's other assets (a re-export ships the whole package); missing files are skipped with a warning.

    Assets the kept graph reads are already in ``model`` and must exist; these
    extra ones are not read by it, so a missing one is not fatal.
    """
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
