"""export_saved_model(model, base_dir): a SavedModel TensorFlow Serving loads on the first try.

Writes BASE_DIR/<version>/ atomically with saved_model.pb, variables/ (large
constants and remaining variables, restored by the loader), assets/ (each file
once), assets.extra/ (carried over), signatures, and one init op whose parts
run in a guaranteed order.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from graphsurgeon import defaults
from graphsurgeon.errors import UnloadableOutputError
from graphsurgeon.formats import saved_model as layout
from graphsurgeon.exporters.checks import UNLOADABLE_FIX, check_signatures, check_warmup
from graphsurgeon.exporters.load_check import LoadChecker
from graphsurgeon.exporters.saved_model import assets as asset_files
from graphsurgeon.exporters.saved_model.init_order import INIT_OP, ordered_init
from graphsurgeon.exporters.saved_model.publish import background_sync, check_base, check_outside_source, staged_version
from graphsurgeon.exporters.saved_model.signatures import (
    SignatureSpec,
    from_source,
    signature_def,
    with_default,
)
from graphsurgeon.exporters.saved_model.weights import Progress, add_saver, to_restored_variables, write_variables
from graphsurgeon.exporters.serving_files import warmup_records, write_tfrecord
from graphsurgeon.exporters.weight_checks import checked_weights
from graphsurgeon.ir.model import Asset, Model
from graphsurgeon.ir.proto import to_graph_def
from graphsurgeon.ir.quantized import warn_nonfinite_dequantizes
from graphsurgeon.ir.shapes import needs_inference
from graphsurgeon.ir.signatures import INIT_SIGNATURE
from graphsurgeon.ir.validate import validate
from graphsurgeon.tf import runtime
from graphsurgeon.tf.protos import pb


def export_saved_model(
    model: Model,
    base_dir: str | os.PathLike,
    *,
    version: int | None = None,
    force: bool = False,
    signatures: Sequence[SignatureSpec] | None = None,
    tags: Sequence[str] = defaults.EXPORT_TAGS,
    inline_limit: int = defaults.INLINE_LIMIT,
    asset_dir: str | None = None,
    extra_assets: Sequence[str] = (),
    progress: Progress | None = None,
    warmup: Sequence[Mapping[str, np.ndarray]] = (),
    record: bytes | None = None,
    load_check: bool = True,
) -> Path:
    """Publish ``model`` as BASE_DIR/<version> (the next integer by default) and return that path.

    ``signatures`` default to the model's own (from a SavedModel source) whose
    tensors survived, plus serving_default over model.inputs/outputs if missing.
    ``warmup`` requests (serving_default input key -> array) are written to
    assets.extra/tf_serving_warmup_requests, which Serving replays before serving.
    ``record`` (graphsurgeon.record) is written to assets.extra/ for verify to replay.
    Before any weight is read, the final graph is validated once (ir.validate);
    before publishing, the signatures are checked (exporters.checks) and, with
    ``load_check``, the staged folder is loaded by TensorFlow's C++ importer, or
    its full loader when variables/ is under 1 GiB (exporters.load_check).
    """
    version = check_base(base_dir, version, force)
    base = Path(base_dir)
    check_outside_source(base, model.source.path)
    model = checked_weights(model)
    where = str(base / str(version))
    warn_nonfinite_dequantizes(model.graph)
    specs = _signatures(model, signatures)
    graph, assets = asset_files.with_extra_assets(model.graph, model.assets, extra_assets)
    model = model.replace(graph=graph, assets=tuple(assets))
    signed = model  # signatures describe the graph before constants become variables
    asset_nodes = {a.tensor.node for a in model.assets}
    model = model.replace(graph=ordered_init(model.graph, model.init_ops, asset_nodes))
    model, restored = to_restored_variables(model, inline_limit)
    graph, saver_def = add_saver(model.graph, restored)
    model = model.replace(graph=graph)
    validate(model.graph, where, UnloadableOutputError, UNLOADABLE_FIX)  # the final graph, before any weight is read
    for asset in model.assets:  # fail on a missing asset before writing anything
        asset.locate(asset_dir)
    checker = LoadChecker() if load_check else contextlib.nullcontext()
    with checker, staged_version(base, version, force) as staging:
        recorded = asset_files.copy_assets(model.assets, asset_dir, layout.assets(staging))
        # Signature shapes the graph does not record need TensorFlow's shape inference;
        # then its import overlaps the (I/O-bound) weight streaming.
        refs = [r for spec in specs if spec.source is None for r in (*spec.inputs.values(), *spec.outputs.values())]
        preload = runtime.importing_in_background() if needs_inference(signed, refs, True) else contextlib.nullcontext()
        with preload:
            write_variables(model, restored, staging, progress)
        # Flushing the weights to disk overlaps the signature work (which imports TensorFlow);
        # the publisher fsyncs everything again before the rename, cheaply once this is done.
        syncing = background_sync(staging)
        try:
            sig_defs = {spec.key: signature_def(signed, spec) for spec in specs}
        finally:
            syncing.join()
        meta = _meta_graph(model, tags, sig_defs, saver_def, recorded)
        check_signatures(meta.graph_def, meta.signature_def, where)
        if warmup and defaults.DEFAULT_SIGNATURE in sig_defs:
            check_warmup(warmup, sig_defs[defaults.DEFAULT_SIGNATURE], where)
        saved_model = pb.saved_model_pb2.SavedModel(saved_model_schema_version=1)
        saved_model.meta_graphs.add().CopyFrom(meta)
        (staging / layout.PROTO).write_bytes(saved_model.SerializeToString(deterministic=True))
        extra = layout.extra(staging)
        if model.extra_dir:
            shutil.copytree(model.extra_dir, extra)
        if warmup:
            extra.mkdir(exist_ok=True)
            write_tfrecord(extra / layout.WARMUP_FILE, warmup_records(base.name, defaults.DEFAULT_SIGNATURE, warmup))
        if record is not None:
            extra.mkdir(exist_ok=True)
            (extra / layout.RECIPE_FILE).write_bytes(record)
        if isinstance(checker, LoadChecker):
            checker.check(staging, tags, meta.graph_def, where)
    return base / str(version)


def _signatures(model: Model, given: Sequence[SignatureSpec] | None) -> list[SignatureSpec]:
    return list(given) if given else with_default(model, from_source(model))


def _meta_graph(model: Model, tags: Sequence[str], sig_defs: dict, saver_def: Any, assets: Sequence[Asset]) -> Any:
    meta = pb.meta_graph_pb2.MetaGraphDef()
    meta.meta_info_def.tags.extend(tags)
    meta.meta_info_def.tensorflow_version = runtime.tensorflow_version()
    meta.graph_def.CopyFrom(to_graph_def(model.graph, model.weights))
    if saver_def is not None:
        meta.saver_def.CopyFrom(saver_def)
    for key, sig in sig_defs.items():
        meta.signature_def[key].CopyFrom(sig)
    init = meta.signature_def[INIT_SIGNATURE]
    init.outputs[INIT_SIGNATURE].name = INIT_OP
    meta.asset_file_def.extend(asset_files.asset_file_defs(assets))
    if assets:
        meta.collection_def["asset_filepaths"].node_list.value.extend(str(a.tensor) for a in assets)
    return meta
