"""The source an export is compared with, run the way the export's recipe ran it.

`verify DIR` without --against opens the source the export's record names
(assets.extra/graphsurgeon_recipe.json) and replays the recipe: its bindings
are applied to the source graph, and sample inputs take the shapes both
models accept (a source fixed at batch 40 gets 40 rows, and so does the export).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from graphsurgeon import defaults
from graphsurgeon.errors import GraphSurgeonError
from graphsurgeon.exporters.weight_checks import checked_weights
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.shapes import static_shape
from graphsurgeon.loaders import load
from graphsurgeon.loaders.saved_model import is_saved_model
from graphsurgeon.names import TensorRef
from graphsurgeon.recipe import Recipe
from graphsurgeon.record import read_record
from graphsurgeon.surgery.bind import bind
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from graphsurgeon.verify.lint import Finding
from graphsurgeon.verify.reference import run_reference

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Reference:
    path: Path
    source: Model
    recipe: Recipe
    asset_dir: str | None
    by_signature: bool  # a SavedModel source run as it is, compared signature key by key

    @classmethod
    def open(cls, directory: Path, against, replay: bool, asset_dir: str | None,
             findings: list[Finding], weights: str | None = None,
             replace_layers: Sequence[str] | None = None) -> "Reference | None":
        """``replace_layers``: --replace-layer as given to verify (the record's are never run)."""
        record = read_record(directory) if replay else None
        recipe = _without_code_options(record.recipe, findings) if record is not None else Recipe()
        if weights is not None:
            recipe = recipe.replace(weights=weights)
        if replace_layers:
            recipe = recipe.replace(replace_layers=tuple(replace_layers))
        elif recipe.replace_layers:
            findings.append(_replacement_not_given(recipe.replace_layers))
            return None
        if against is None:
            if record is None:
                return None
            if not record.source_exists():
                findings.append(Finding("recorded source", True, f"the source the recipe names, {record.source}, "
                                        "is gone; pass --against SOURCE to compare outputs"))
                return None
            against = record.source
            findings.append(Finding("recorded source", True,
                                    f"compared with {against}, the source its recipe names, replaying the recipe"))
        path = Path(against)
        by_signature = is_saved_model(path) and not recipe.bindings
        if by_signature:
            source = load(path, trace=False)
        else:
            from graphsurgeon.pipeline import load_source  # the recipe's source options (Keras, tags)

            source = load_source(path, recipe)
            # TensorFlow's restore would stop at a corrupt tensor with a message several lines deep;
            # graphsurgeon's own checks name the tensor, the file and the offset in one line.
            checked_weights(source).weights.check_all()
            source = bind(source, recipe.bindings) if recipe.bindings else source
        return cls(path, source, recipe, asset_dir or recipe.asset_dir, by_signature)

    def describe(self) -> str:
        return str(self.path)

    def input_shapes(self, model: Model, key: str) -> dict[str, Shape | None]:
        """The source's static shape for each input of the export's signature ``key``."""
        exported = model.signatures[key]
        if self.by_signature:
            original = self.source.signatures.get(_twin_key(model, self.source, key))
            if original is None:
                return {}
            return {k: _dims(original.inputs[k].tensor_shape) for k in exported.inputs if k in original.inputs}
        shapes = {}
        for k, info in exported.inputs.items():
            try:
                shapes[k] = static_shape(self.source, TensorRef.parse(_source_name(self.source, info.name)), True)
            except GraphSurgeonError:
                shapes[k] = None
        return shapes

    def outputs(self, model: Model, keys: Sequence[str], runs: Sequence[Run]) -> dict[str, list[np.ndarray]]:
        if self.by_signature:
            mapped = [_by_keys(model, self.source, key, run) for key, run in zip(keys, runs)]
            return dict(zip(keys, run_in_cpp_loader(self.path, _tags(self.source), mapped)))
        results = {}
        for key, run in zip(keys, runs):
            feeds = {_source_name(self.source, n): v for n, v in run.feeds.items()}
            feeds = {n: _as_source_dtype(self.source, n, v) for n, v in feeds.items()}
            fetches = [_source_name(self.source, f) for f in run.fetches]
            results[key] = run_reference(self.source, feeds, fetches, self.asset_dir, self.recipe.weights)
        return results


def _dims(shape_proto) -> Shape | None:
    return None if shape_proto.unknown_rank else tuple(d.size for d in shape_proto.dim)


def _without_code_options(recipe: Recipe, findings: list[Finding]) -> Recipe:
    """The record is a file inside the directory being checked: options that run code are never taken from it.

    (Its --replace-layer is kept here so Reference.open can say which to give; it is never run from the record.)
    """
    asked = [option for option, value in (("--custom-objects", recipe.custom_objects),
                                          ("--unsafe-lambda", recipe.unsafe_lambda)) if value]
    if not asked:
        return recipe
    findings.append(Finding("recorded recipe", True, f"the record asks for {' and '.join(asked)}; verify never runs "
                            "code a model directory names, so the source is loaded without them"))
    return replace(recipe, custom_objects=None, unsafe_lambda=None)


def _replacement_not_given(recorded: Sequence[str]) -> Finding:
    """--replace-layer imports a Python file: the one a record names is not run; the user gives it to verify."""
    options = " ".join(f"--replace-layer {text}" for text in recorded)
    return Finding("recorded recipe", False, f"the export was traced with {options}; verify never runs code a "
                   f"model directory names, so it cannot rebuild the source without them: pass {options} to verify "
                   "to compare outputs (or --no-replay to only load and run the export)")


def _as_source_dtype(source: Model, name: str, value: np.ndarray) -> np.ndarray:
    """An input whose dtype the recipe overrode is fed to the source in the source's own dtype."""
    from graphsurgeon.ir.types import output_dtype

    ref = TensorRef.parse(name)
    wanted = dt.numpy_of(dt.base(output_dtype(source.graph[ref.node], ref.port, source.graph)))
    value = np.asarray(value)
    return value.astype(wanted) if value.dtype != wanted and value.dtype.kind not in "OSU" else value


def _twin_key(model: Model, source: Model, key: str) -> str:
    """serving_default added by an export copies another signature: compare with that one's original."""
    if key in source.signatures:
        return key
    exported = model.signatures[key]
    twins = [k for k, s in sorted(model.signatures.items()) if k != key and k in source.signatures
             and dict(s.inputs) == dict(exported.inputs) and dict(s.outputs) == dict(exported.outputs)]
    return twins[0] if twins else key


def _by_keys(model: Model, source: Model, key: str, run: Run) -> Run:
    exported = model.signatures[key]
    original = source.signatures.get(_twin_key(model, source, key))
    if original is None:
        raise GraphSurgeonError(f"the source has no signature {key!r} to compare with; compare by hand")
    by_name = {t.name: k for k, t in exported.inputs.items()}
    feeds = {original.inputs[by_name[name]].name: value for name, value in run.feeds.items()}
    fetches = [original.outputs[k].name for k in sorted(exported.outputs)]
    return Run(feeds, fetches)


def _tags(model: Model) -> list[str]:
    return list(model.meta_info.tags) if model.meta_info is not None else [defaults.SERVE_TAG]


def _source_name(source: Model, name: str) -> str:
    """The source tensor an exported one came from: same name, or node:k for a cut input named node_k."""
    ref = TensorRef.parse(name)
    if ref.node in source.graph:
        return str(ref)
    match = re.fullmatch(r"(.*)_(\d+)", ref.node)
    if match and match.group(1) in source.graph:
        return f"{match.group(1)}:{match.group(2)}"
    raise GraphSurgeonError(f"tensor {name} of the export has no counterpart in the source; compare by hand")

