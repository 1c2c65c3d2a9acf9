"""The stages an init op's parts run in, in order: what a Plan lists and the exporter chains.

TensorFlow's group(...) imposes no order, so a table initializer can read its
path variable before it is assigned (tensorflow/serving#1437). Each part of
the source's init ops belongs to one stage, and stage k waits for stage k-1:

  0. variables that are not restored from variables/
  1. asset-path variables and other path assignments
  2. table initializers
  3. anything else the source's init ops did
"""
from __future__ import annotations

from collections.abc import Iterable

from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.ops import INIT_ASSIGN_OPS, TABLE_INIT_OPS

STAGE_NAMES = ("variables", "asset_paths", "tables", "other")


def stage_of(graph: Graph, name: str, asset_tensors: set[str]) -> int:
    node = graph[name]
    if node.op in INIT_ASSIGN_OPS:
        return 1 if _reads_asset(graph, node, asset_tensors) else 0
    if node.op in TABLE_INIT_OPS:
        return 2
    return 3


def staged(graph: Graph, init_ops: Iterable[str], asset_tensors: set[str]) -> dict[str, list[str]]:
    """Init ops by stage name, each stage in the order given."""
    stages: dict[str, list[str]] = {name: [] for name in STAGE_NAMES}
    for name in init_ops:
        stages[STAGE_NAMES[stage_of(graph, name, asset_tensors)]].append(name)
    return stages


def _reads_asset(graph: Graph, node: Node, asset_tensors: set[str]) -> bool:
    return graph.source(node.inputs[1]).node in asset_tensors
