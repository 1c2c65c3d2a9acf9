"""The source model's own outputs, computed by TensorFlow from the original graph and checkpoint."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graphsurgeon.errors import GraphSurgeonError
from graphsurgeon.ir.init_stages import stage_of
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import VARIABLE_OPS
from graphsurgeon.ir.proto import to_graph_def
from graphsurgeon.tf import runtime
from graphsurgeon.verify.without_checkpoint import variable_initialization


def run_reference(source: Model, feeds: Mapping[str, np.ndarray], fetches: Sequence[str],
                  asset_dir: str | None = None, weights: str | None = None) -> list[np.ndarray]:
    """Run the unmodified source graph: restore its checkpoint, run its init ops one by one, fetch.

    Init ops run in graphsurgeon's stage order, one at a time, because the
    source's own group(...) may race (that is what the export fixes). A source
    without a checkpoint (a .meta alone) first runs each variable's own
    initialization, as its author's init did (see without_checkpoint).
    """
    has_variables = any(n.op in VARIABLE_OPS for n in source.graph)
    restore = None
    first: list[str] = []
    file_feeds: dict[str, Any] = {}
    if has_variables and source.saver_def is not None and source.source.checkpoint is not None:
        restore = (source.saver_def.filename_tensor_name, source.saver_def.restore_op_name, source.source.checkpoint)
    elif has_variables:
        first, file_feeds = variable_initialization(source, weights)
    asset_feeds = {str(a.tensor): str(a.locate(asset_dir)) for a in source.assets}
    assets = {a.tensor.node for a in source.assets}
    init_ops = first + sorted(source.init_ops, key=lambda name: stage_of(source.graph, name, assets))
    try:
        return runtime.run_restored(to_graph_def(source.graph, source.weights), restore, init_ops,
                                {**asset_feeds, **file_feeds}, dict(feeds), list(fetches))
    except runtime.import_error() as err:
        line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise GraphSurgeonError(f"running the source {source.source.path} failed: {line}") from err
