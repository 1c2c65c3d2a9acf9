"""export(source, recipe, base_dir) and write_frozen(source, recipe, path): a whole run as one library call.

Everything `graphsurgeon export` and `graphsurgeon cut` decide lives here, so
a conversion script does exactly what the CLI does: plan once, apply the plan,
carry the source's assets, add the front end and head, build the signatures,
write the warmup requests, and record the recipe in the version folder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graphsurgeon import defaults
from graphsurgeon.exporters.graphdef import write_graph_def
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.exporters.saved_model.publish import check_base
from graphsurgeon.exporters.atomic import check_target
from graphsurgeon.exporters.saved_model.signatures import (METHODS, SignatureSpec, default_signature, from_source,
                                                           with_default)
from graphsurgeon.exporters.saved_model.weights import Progress
from graphsurgeon.formats.npz import read_npz
from graphsurgeon.ir.model import Model
from graphsurgeon.loaders import load
from graphsurgeon.plan import Plan, plan
from graphsurgeon.recipe import Recipe
from graphsurgeon.record import recipe_record
from graphsurgeon.surgery.assets import carry_all_assets
from graphsurgeon.surgery.frontends import add_image_input, normalization
from graphsurgeon.surgery.heads import add_top_k

Source = Model | str | os.PathLike


@dataclass(frozen=True)
class Signature:
    """A signature as written: its method and the tensor each key names."""

    method: str
    inputs: dict[str, str]
    outputs: dict[str, str]


@dataclass(frozen=True)
class ExportResult:
    path: Path  # the published version folder
    plan: Plan
    source: Model
    result: Model  # what was written
    signatures: dict[str, Signature]  # by key, as written (the source's hidden ones left out)


@dataclass(frozen=True)
class FrozenResult:
    path: Path  # the .pb/.pbtxt written
    plan: Plan
    source: Model
    result: Model  # what was written


def load_source(source: Source, recipe: Recipe, trace: bool = True) -> Model:
    """The model a recipe starts from: a loaded Model as it is, or a path loaded with the recipe's source options.

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
                custom_objects=custom_objects, replace_layers=replace_layers)


def prepare(source: Model, recipe: Recipe) -> tuple[Plan, Model]:
    """Plan, apply, carry the source's assets (a re-export ships the whole package), add the front end and head."""
    planned = plan(source, recipe).check()
    model = planned.apply()
    if not recipe.outputs:
        model = carry_all_assets(model, source)
    front = recipe.front_end
    if front is not None and planned.image_input is not None:
        norm = normalization(front.normalize, front.mean, front.std)
        model = add_image_input(model, planned.image_input, norm=norm, channels_first=bool(front.channels_first),
                                key=front.image_key or defaults.IMAGE_KEY)
    head = recipe.head
    if head is not None and planned.head_output is not None:
        model = add_top_k(model.replace(signatures={}), planned.head_output, head.top_k, labels=head.labels)
    return planned, model


def signature_specs(model: Model, planned: Plan) -> list[SignatureSpec]:
    """The signatures an export writes: serving_default from the recipe when it names its own, plus the
    source's other signatures whose tensors survived; else the source's own."""
    recipe = planned.recipe
    specs = [default_signature(model, planned.keys, recipe.signature_method)] if recipe.names_own_signature \
        else from_source(model)
    if recipe.names_own_signature and model.signatures:
        specs += [s for s in from_source(model) if s.key != specs[0].key]
    return with_default(model, specs)


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
    model = load_source(source, recipe)
    planned, result = prepare(model, recipe)
    record = recipe_record(source, model, recipe, planned)
    specs = signature_specs(result, planned)
    path = export_saved_model(result, base_dir, version=version, force=force, signatures=specs,
                              tags=recipe.export_tag_list, inline_limit=recipe.inline_bytes,
                              asset_dir=recipe.asset_dir, extra_assets=recipe.extra_assets or (),
                              progress=progress, warmup=warmup_rows(recipe), record=record, load_check=load_check)
    return ExportResult(path, planned, model, result, {spec.key: _written(spec) for spec in specs})


def write_frozen(source: Source, recipe: Recipe | None, path: str | os.PathLike, *, force: bool = False,
                 progress: Progress | None = None) -> FrozenResult:
    """Cut (or freeze) as ``recipe`` says and write a frozen .pb/.pbtxt."""
    recipe = recipe or Recipe()
    check_target(Path(path), force)  # refuse to clobber before any work
    model = load_source(source, recipe)
    planned = plan(model, recipe).check()
    result = planned.apply()
    return FrozenResult(write_graph_def(result, path, force=force, progress=progress,
                                        asset_dir=recipe.asset_dir), planned, model, result)


def _written(spec: SignatureSpec) -> Signature:
    """What a signature spec is written as (a kept source SignatureDef as it is)."""
    if spec.source is not None:
        return Signature(spec.source.method_name, {k: t.name for k, t in sorted(spec.source.inputs.items())},
                         {k: t.name for k, t in sorted(spec.source.outputs.items())})
    return Signature(METHODS.get(spec.method, spec.method), {k: str(r) for k, r in sorted(spec.inputs.items())},
                     {k: str(r) for k, r in sorted(spec.outputs.items())})
