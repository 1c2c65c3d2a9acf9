"""MetaGraphDef (.meta, or one inside saved_model.pb) -> Model, read as protos.

No import_meta_graph: TensorFlow 2.21 refuses real .meta files over details
(a tensorflow_version of '0.12.head', stale _output_shapes) that do not matter
to the graph itself.
"""
from __future__ import annotations

from typing import Any

from graphsurgeon.ir.model import Model, Source
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.ir.proto import graph_from_proto
from graphsurgeon.loaders.init_ops import (
    assets_from_collection,
    assets_from_defs,
    init_ops,
    legacy_asset_defs,
    merge_assets,
)
from graphsurgeon.loaders.partitions import parts_from_collections, with_parts
from graphsurgeon.loaders.saver import variable_keys


def model_from_meta_graph(meta: Any, source: Source, weights: WeightStore, assets_dir: str | None = None,
                          extra_dir: str | None = None) -> Model:
    """``assets_dir`` is a SavedModel's assets/ (its AssetFileDefs name files there)."""
    graph = graph_from_proto(meta.graph_def, source.path)
    collections = dict(meta.collection_def)
    signatures = dict(meta.signature_def)
    asset_defs = list(meta.asset_file_def) + legacy_asset_defs(collections)
    assets = merge_assets(
        assets_from_defs(asset_defs, assets_dir) if assets_dir is not None else [],
        assets_from_collection(graph, collections),
    )
    keys = variable_keys(graph, meta.saver_def if meta.HasField("saver_def") else None)
    weights, part_keys = with_parts(weights, parts_from_collections(collections, source.path), keys)
    return Model(
        graph=graph,
        weights=weights,
        source=source,
        variable_keys={**keys, **part_keys},
        collections=collections,
        signatures=signatures,
        saver_def=meta.saver_def if meta.HasField("saver_def") else None,
        meta_info=meta.meta_info_def if meta.HasField("meta_info_def") else None,
        assets=assets,
        init_ops=init_ops(graph, collections, signatures),
        extra_dir=extra_dir,
    )
