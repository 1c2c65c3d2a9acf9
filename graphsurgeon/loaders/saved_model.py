"""SavedModel directories: one MetaGraph chosen by tags, weights in variables/."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphsurgeon import defaults
from graphsurgeon.errors import LoadError
from graphsurgeon.ir.custom_ops import serving_build, unregistered_list
from graphsurgeon.ir.model import Model, Source
from graphsurgeon.ir.types import unregistered_ops_of
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.loaders.checkpoint import read_index
from graphsurgeon.loaders.graphdef import parse_proto
from graphsurgeon.loaders.metagraph import model_from_meta_graph
from graphsurgeon.loaders.object_graph import VALUE_SUFFIX, saved_variable_keys, variable_keys_from_objects
from graphsurgeon.loaders.tf2 import calls_functions, traced_signatures
from graphsurgeon.formats import saved_model as layout
from graphsurgeon.tf.protos import pb


def is_saved_model(path: Path) -> bool:
    return layout.has_proto(path)


def load_saved_model(directory: Path, tags: Sequence[str] | None = None, trace: bool = True,
                     signature: str | Sequence[str] | None = None) -> Model:
    """A SavedModel's MetaGraph as it is (TF1 graphs, and every SavedModel with trace=False), or, for a
    TF2 SavedModel whose signatures call functions, the chosen signatures (default: every serving
    signature) flattened together (see tf2.py)."""
    saved_model = parse_proto(layout.proto(directory), pb.saved_model_pb2.SavedModel(), "SavedModel")
    meta = _choose_meta_graph(saved_model, directory, tags)
    prefix = str(layout.variables_prefix(directory)) if layout.variables_index(directory).is_file() else None
    weights = read_index(prefix) if prefix else WeightStore()
    source = Source(str(directory), "saved_model", prefix)
    extra = layout.extra(directory)
    model = model_from_meta_graph(meta, source, weights, assets_dir=str(layout.assets(directory)),
                                  extra_dir=str(extra) if extra.is_dir() else None)
    by_object = variable_keys_from_objects(meta, model.graph, weights)
    if by_object:  # TF2: variables are saved under object paths, restored inside a function
        model = model.replace(variable_keys={**by_object, **model.variable_keys})
    if trace and calls_functions(model):
        _refuse_untraceable(directory, meta, model)
        wanted = [signature] if isinstance(signature, str) else signature
        return traced_signatures(model, directory, sorted(meta.meta_info_def.tags), wanted)
    return model


def _refuse_untraceable(directory: Path, meta: Any, model: Model) -> None:
    """What would stop TensorFlow from loading a TF2 SavedModel to trace it, as one line: ops it does not
    register (it loads every function of the library), or variables without saved values."""
    library = model.graph.library
    unknown = unregistered_ops_of(model.graph, library, [f.signature.name for f in getattr(library, "function", ())])
    if unknown:
        raise LoadError(
            f"{directory}: its functions use {unregistered_list(list(unknown), unknown)}, so TensorFlow cannot load "
            f"it to flatten its signatures; serve it as it is with {serving_build(unknown)}, or export the model "
            "from its source without those ops (`graphsurgeon inspect` and `audit` still read it)")
    missing = [key for key in saved_variable_keys(meta) if key not in model.weights]
    if missing:
        raise LoadError(_missing_variables(directory, missing, model.source.checkpoint))


def _missing_variables(directory: Path, missing: Sequence[str], checkpoint: str | None) -> str:
    names = ", ".join(k[: -len(VALUE_SUFFIX)] for k in missing[:3]) + (", ..." if len(missing) > 3 else "")
    if checkpoint is None:
        return (f"{directory} has no variables/ directory (variables.index and variables.data-*), so its "
                f"{len(missing)} variable(s) ({names}) have no trained values; copy variables/ from where the "
                "SavedModel was exported")
    return (f"{checkpoint}.index has no value for {len(missing)} variable(s) of {directory} ({names}): that "
            "variables/ was not saved with this saved_model.pb; copy saved_model.pb and variables/ from the same "
            "export")


def _choose_meta_graph(saved_model: Any, directory: Path, tags: Sequence[str] | None) -> Any:
    available = [sorted(m.meta_info_def.tags) for m in saved_model.meta_graphs]
    if not available:
        raise LoadError(f"{directory} holds a SavedModel with no MetaGraphs; re-export it")
    if tags is None:
        for meta, meta_tags in zip(saved_model.meta_graphs, available):
            if defaults.SERVE_TAG in meta_tags:
                return meta
        if len(available) == 1:
            return saved_model.meta_graphs[0]
        raise LoadError(f"{directory} has no {defaults.SERVE_TAG!r} MetaGraph; choose one with --tags, from {available}")
    for meta, meta_tags in zip(saved_model.meta_graphs, available):
        if set(meta_tags) == set(tags):
            return meta
    raise LoadError(f"{directory} has no MetaGraph tagged {sorted(tags)}; its tag sets are {available}")
