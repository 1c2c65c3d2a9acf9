"""MetaGraphDef (.meta, or one inside saved_model.pb) -> Model, read as protos.

No import_meta_graph: TensorFlow 2.21 refuses real .meta files over details
(a tensorflow_version of '0.12.head', stale _output_shapes) that do not matter
to the graph itself.
"""
from __future__ import annotations

from typing import Any

from graphsurgeon.ir.model import Model, Source
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.loaders.graphdef import graph_from_proto
from graphsurgeon.loaders.saver import variable_keys


def model_from_meta_graph(meta: Any, source: Source, weights: WeightStore) -> Model:
    graph = graph_from_proto(meta.graph_def, source.path)
    return Model(
        graph=graph,
        weights=weights,
        source=source,
        variable_keys=variable_keys(graph),
        collections=dict(meta.collection_def),
        signatures=dict(meta.signature_def),
        saver_def=meta.saver_def if meta.HasField("saver_def") else None,
        meta_info=meta.meta_info_def if meta.HasField("meta_info_def") else None,
    )
