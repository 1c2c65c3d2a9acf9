"""Writing a Model as a frozen GraphDef (.pb or .pbtxt): deterministic and atomic."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from google.protobuf import text_format

from graphsurgeon.errors import UnloadableOutputError, WriteError
from graphsurgeon.exporters.atomic import atomic_file, check_target
from graphsurgeon.exporters.checks import UNLOADABLE_FIX
from graphsurgeon.exporters.weight_checks import checked_weights
from graphsurgeon.formats.limits import PROTO_LIMIT
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import VARIABLE_OPS
from graphsurgeon.ir.proto import to_graph_def
from graphsurgeon.ir.quantized import warn_nonfinite_dequantizes
from graphsurgeon.ir.sizes import estimated_graph_def_bytes
from graphsurgeon.ir.validate import validate
from graphsurgeon.surgery.embed_files import embedded_files


def write_graph_def(model: Model, path: str | os.PathLike, *, force: bool = False,
                    progress: Callable[[int, int], None] | None = None, asset_dir: str | None = None) -> Path:
    """Write ``model`` as a GraphDef; text format if the path ends in .pbtxt.

    Every variable must already be frozen. The files the graph reads (table
    vocabularies, ReadFile) are embedded (surgery.embed_files; ``asset_dir`` is
    where they are now, as for export), so the file runs anywhere.
    The same model gives the same bytes.
    A graph over protobuf's 2 GiB limit is refused before any weight is read.
    """
    path = Path(path)
    check_target(path, force)
    _refuse_unfrozen(model)
    model = embedded_files(checked_weights(model), asset_dir)
    estimate = estimated_graph_def_bytes(model)
    if estimate >= PROTO_LIMIT:
        raise WriteError(
            f"a frozen GraphDef of this model would be about {estimate / 2**30:.2f} GiB, over protobuf's 2 GiB limit; "
            "export a SavedModel instead (graphsurgeon export / --format saved_model), which keeps weights in variables/"
        )
    # Structure first, from the graph without its weights: a bad graph fails before any weight is read.
    validate(model.graph, str(path), UnloadableOutputError, UNLOADABLE_FIX)
    warn_nonfinite_dequantizes(model.graph)
    graph_def = to_graph_def(model.graph, model.weights, progress=progress)
    with atomic_file(path, force) as tmp:
        if path.suffix == ".pbtxt":
            tmp.write_text(text_format.MessageToString(graph_def))
        else:
            tmp.write_bytes(graph_def.SerializeToString(deterministic=True))
    return path


def _refuse_unfrozen(model: Model) -> None:
    for node in model.graph:
        if node.op in VARIABLE_OPS:
            raise WriteError(
                f"variable {node.name!r} is not frozen, and a GraphDef file has nowhere to keep its value; "
                "freeze the model first (graphsurgeon freeze, or cut writes frozen graphs)"
            )
