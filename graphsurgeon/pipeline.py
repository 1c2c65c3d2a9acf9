"""export(source, recipe, base_dir) and write_frozen(source, recipe, path): a whole run as one library call.

Everything `graphsurgeon export` and `graphsurgeon cut` decide lives here, so
a conversion script does exactly what the CLI does: plan once, apply the plan,
carry the source's assets, add the front end and head, build the signatures,
write the warmup requests, and record the recipe in the version folder.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from graphsurgeon import defaults
from graphsurgeon.errors import UsageError
from graphsurgeon.exporters.graphdef import write_graph_def
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.exporters.saved_model.publish import check_base
from graphsurgeon.exporters.saved_model.signatures import SignatureSpec, default_signature, from_source
from graphsurgeon.exporters.saved_model.weights import Progress
from graphsurgeon.formats.npz import read_npz
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.signatures import user_signatures
from graphsurgeon.loaders import load
from graphsurgeon.plan import Plan, apply, plan
from graphsurgeon.recipe import Recipe
from graphsurgeon.record import recipe_record
from graphsurgeon.surgery.assets import carry_all_assets
from graphsurgeon.surgery.frontends import add_image_input, normalization
from graphsurgeon.surgery.heads import add_top_k

Source = Model | str | os.PathLike


@dataclass(frozen=True)
class ExportResult:
    path: Path  # the published version folder
    plan: Plan
    source: Model
    result: Model  # what was written
    signatures: dict[str, dict[str, Any]]  # key -> {"method", "inputs", "outputs"} as written


def load_source(source: Source, recipe: Recipe, trace: bool = True, check_all_nodes: bool = True) -> Model:
    """The model a recipe starts from: a loaded Model as it is, or a path loaded with the recipe's source options.

    ``check_all_nodes`` False when a plan follows: it checks the nodes it keeps.
    """
    if isinstance(source, Model):
        return source
    custom_objects: dict = {}
    replace_layers = None
    if recipe.custom_objects:
        from graphsurgeon.loaders.keras.h5 import custom_objects_from

        custom_objects = custom_objects_from(recipe.custom_objects)
    if recipe.replace_layers and trace:
        from graphsurgeon.loaders.keras.replace import replacement_functions

        replace_layers = replacement_functions(recipe.replace_layers)
    return load(source, tags=recipe.tags, trace=trace, signature=recipe.signatures,
                architecture=recipe.architecture, unsafe_lambda=bool(recipe.unsafe_lambda), weights=recipe.weights,
                custom_objects=custom_objects, replace_layers=replace_layers,
                check_all_nodes=check_all_nodes)


def prepare(source: Model, recipe: Recipe) -> tuple[Plan, Model]:
    """Plan, apply, carry the source's assets (a re-export ships the whole package), add the front end and head."""
    planned = plan(source, recipe).check()
    model = apply(planned)
    if not recipe.outputs:
        model = carry_all_assets(model, source)
    front = recipe.front_end
    if front is not None:
        norm = normalization(front.normalize, front.mean, front.std)
        model = add_image_input(model, front.image_input, norm=norm, channels_first=bool(front.channels_first),
                                key=front.image_key or defaults.IMAGE_KEY)
    return planned, _with_head(model, recipe)


def _with_head(model: Model, recipe: Recipe) -> Model:
    head = recipe.head
    if head is None:
        return model
    target = head.output
    if target is None:
        if len(model.outputs) != 1:
            raise UsageError(f"the model has {len(model.outputs)} outputs; choose the one for --top-k with "
                             f"--top-k-output (one of {', '.join(str(r) for r in model.outputs)})")
        target = str(model.outputs[0])
    return add_top_k(model.replace(signatures={}), target, head.top_k, labels=head.labels)


def signature_specs(model: Model, recipe: Recipe) -> list[SignatureSpec] | None:
    """serving_default from the recipe when it names its own, plus the source's other signatures; else None
    (the exporter keeps the source's signatures)."""
    if not recipe.names_own_signature:
        return None
    specs = [default_signature(model, dict(recipe.keys or {}), recipe.signature_method)]
    if model.signatures:
        specs += [s for s in from_source(model) if s.key != specs[0].key]
    return specs


def warmup_rows(recipe: Recipe) -> list[dict[str, np.ndarray]]:
    """One request per row of the warmup arrays (a batch of one each)."""
    if not recipe.warmup:
        return []
    arrays = read_npz(recipe.warmup, "--warmup")
    rows = min(len(a) for a in arrays.values()) if arrays else 0
    return [{key: value[i:i + 1] for key, value in arrays.items()} for i in range(rows)]


def export(source: Source, recipe: Recipe | None, base_dir: str | os.PathLike, *, version: int | None = None,
           force: bool = False, progress: Progress | None = None, load_check: bool = True) -> ExportResult:
    """Publish the model ``recipe`` describes as BASE_DIR/<version>, exactly as `graphsurgeon export` does.

    ``load_check`` False skips loading the staged folder in TensorFlow's C++ loader before publishing.
    """
    recipe = recipe or Recipe()
    check_base(base_dir, version, force)  # refuse to clobber before any work
    model = load_source(source, recipe, check_all_nodes=False)
    planned, result = prepare(model, recipe)
    record = recipe_record(source, model, recipe, planned)
    path = export_saved_model(result, base_dir, version=version, force=force,
                              signatures=signature_specs(result, recipe), tags=recipe.export_tag_list,
                              inline_limit=recipe.inline_bytes, asset_dir=recipe.asset_dir,
                              extra_assets=recipe.extra_assets or (), progress=progress,
                              warmup=warmup_rows(recipe), record=record, load_check=load_check)
    return ExportResult(path, planned, model, result, written_signatures(path))


def write_frozen(source: Source, recipe: Recipe | None, path: str | os.PathLike, *, force: bool = False,
                 progress: Progress | None = None) -> tuple[Path, Model, Model]:
    """Cut (or freeze) as ``recipe`` says and write a frozen .pb/.pbtxt: (path, source, result)."""
    recipe = recipe or Recipe()
    model = load_source(source, recipe, check_all_nodes=False)
    result = apply(plan(model, recipe).check())
    return write_graph_def(result, path, force=force, progress=progress, asset_dir=recipe.asset_dir), model, result


def written_signatures(version_dir: Path) -> dict[str, dict[str, Any]]:
    """The signatures of a written SavedModel, read from its saved_model.pb (no TensorFlow)."""
    from graphsurgeon.loaders.graphdef import parse_proto
    from graphsurgeon.tf.protos import pb

    saved = parse_proto(version_dir / "saved_model.pb", pb.saved_model_pb2.SavedModel(), "SavedModel")
    sigs: Mapping[str, Any] = saved.meta_graphs[0].signature_def
    return {key: {"method": sig.method_name,
                  "inputs": {k: t.name for k, t in sorted(sig.inputs.items())},
                  "outputs": {k: t.name for k, t in sorted(sig.outputs.items())}}
            for key, sig in user_signatures(sigs).items()}
