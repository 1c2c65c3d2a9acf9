"""The source an export is compared with, run the way the export's recorded recipe ran it.

`verify DIR` without --against opens the source the export's record names
(assets.extra/graphsurgeon_recipe.json) and replays the whole recipe: the
record's resolved names map each export tensor to its source tensor, and the
source is run as the same cut (CutReference, see reference.py) with the same
bindings and batch policy. A TF2 SavedModel re-exported whole is compared
signature by signature with the original, loaded by TensorFlow's C++ loader
(SignatureReference). Options that run code (--custom-objects,
--replace-layer, --unsafe-lambda) are never taken from the record: the user
gives them to verify, as to export.
"""
from __future__ import annotations

import tempfile
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from graphsurgeon import defaults
from graphsurgeon.errors import GraphSurgeonError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.shapes import needs_inference, static_shape
from graphsurgeon.ir.types import output_dtype
from graphsurgeon.loaders import load
from graphsurgeon.loaders.saved_model import is_saved_model
from graphsurgeon.loaders.tf2 import calls_functions
from graphsurgeon.names import TensorRef
from graphsurgeon.pipeline import load_source
from graphsurgeon.plan import Plan, plan
from graphsurgeon.recipe import Recipe
from graphsurgeon.record import Record, read_record
from graphsurgeon.verify.cpp_loader import Run, Session
from graphsurgeon.verify.lint import Finding
from graphsurgeon.verify.reference import ReferenceGraph, reference_graph

Shape = tuple[int, ...]
# Recipe fields that import or run code: verify takes them from the user, never from the record.
CODE_OPTIONS = {"custom_objects": "--custom-objects", "replace_layers": "--replace-layer",
                "unsafe_lambda": "--unsafe-lambda"}
# Recipe fields that say how to load the source: the user's value (given to verify) wins over the record's.
LOAD_OPTIONS = ("tags", "architecture", "weights", "asset_dir", *CODE_OPTIONS)


@dataclass(frozen=True)
class Pairing:
    """One export signature's tensors and their counterparts in the reference: feed as, fetch as."""

    inputs: Mapping[str, tuple[str, int | None]]  # export tensor -> (reference tensor, dtype to feed it in)
    outputs: Mapping[str, str]  # export tensor -> reference tensor


class Reference(ABC):
    """What the export is compared with; ``open`` picks the kind."""

    path: Path

    def describe(self) -> str:
        return str(self.path)

    @abstractmethod
    def pairing(self, model: Model, key: str) -> Pairing | str:
        """How signature ``key``'s tensors map to the reference's, or why it cannot be compared."""

    @abstractmethod
    def source_shape(self, model: Model, key: str, input_key: str) -> Shape | None:
        """The shape the source gives the counterpart of an export input (None: it does not say)."""

    @abstractmethod
    def session(self, runs: Sequence[Run]) -> Session:
        """The session that runs ``runs`` (in the reference's tensor names) after any setup it needs."""

    def diagnose(self, error: str) -> None:
        """After the reference failed to set up: raise a clearer error if graphsurgeon can name the cause."""

    @staticmethod
    def open(directory: Path, against: Any, replay: bool, given: Recipe, findings: list[Finding],
             export: Model, work: Path) -> "Reference | None":
        """The reference for ``directory``; None (with a finding that says why) when there is none."""
        record = read_record(directory) if replay else None
        recipe = _recipe(record, given, findings)
        if recipe is None:
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
        source: Path | Model = path
        if is_saved_model(path):
            original = load(path, tags=recipe.tags, trace=False)
            if not calls_functions(original):
                source = original  # a TF1 graph: loaded already, as load_source would
            elif not (recipe.inputs or recipe.outputs or recipe.bindings):
                return SignatureReference(path, original)
        return CutReference.build(path, source, recipe, record, export, work)


def _recipe(record: Record | None, given: Recipe, findings: list[Finding]) -> Recipe | None:
    """The recorded recipe with the user's loading options; None when the record asks for code the user did not give."""
    recorded = record.recipe if record is not None else Recipe()
    missing = [(CODE_OPTIONS[f], getattr(recorded, f)) for f in CODE_OPTIONS
               if getattr(recorded, f) and not getattr(given, f)]
    if missing:
        options = " ".join(_option_text(option, value) for option, value in missing)
        findings.append(Finding("recorded recipe", False, f"the export was made with {options}; verify never runs "
                                f"code a model directory names, so it cannot rebuild the source without them: pass "
                                f"{options} to verify to compare outputs (or --no-replay to only load and run "
                                "the export)"))
        return None
    return recorded.replace(**{f: getattr(given, f) if getattr(given, f) is not None else
                               (None if f in CODE_OPTIONS else getattr(recorded, f)) for f in LOAD_OPTIONS})


def _option_text(option: str, value: Any) -> str:
    if value is True:
        return option
    values = value if isinstance(value, tuple) else (value,)
    return " ".join(f"{option} {v}" for v in values)


class CutReference(Reference):
    """The source run as the recipe's cut, in TensorFlow's C++ runtime (see reference.py)."""

    def __init__(self, path: Path, planned: Plan, graph: ReferenceGraph, resolved: Mapping[str, TensorRef]):
        self.path, self.planned, self.graph = path, planned, graph
        self.resolved = resolved  # export tensor -> source tensor, from the record

    @classmethod
    def build(cls, path: Path, loaded: Path | Model, recipe: Recipe, record: Record | None, export: Model,
              work: Path) -> "CutReference":
        source = load_source(loaded, recipe)
        resolved = _resolved_names(record)
        reference = _reference_recipe(recipe, record, export)
        planned = plan(source, reference)
        if planned.cut.problems and record is None:  # a hand-made export cut at its signature inputs
            planned = plan(source, reference.replace(inputs=_signature_tensors(export, inputs=True)))
        planned.cut.check()  # the reference restores or initializes its variables: nothing is frozen
        graph = reference_graph(planned, work / "reference.pb", recipe.asset_dir, recipe.weights)
        return cls(path, planned, graph, resolved)

    def pairing(self, model: Model, key: str) -> Pairing | str:
        """Each tensor of the export's signature ``key`` and the source tensor its key stands for."""
        sig = model.signatures[key]
        inputs: dict[str, tuple[str, int | None]] = {}
        for input_key, info in sorted(sig.inputs.items()):
            found = self._counterpart(self._intended(key, "inputs", input_key) or self._recorded(info.name))
            if found is None:
                return f"input {input_key!r} ({info.name}) has no counterpart in the source"
            inputs[info.name] = found
        outputs = {}
        for output_key, info in sorted(sig.outputs.items()):
            found = self._counterpart(self._intended(key, "outputs", output_key) or self._recorded(info.name))
            if found is None:
                return f"output {output_key!r} ({info.name}) has no counterpart in the source"
            outputs[info.name] = found[0]
        return Pairing(inputs, outputs)

    def _intended(self, key: str, side: str, item: str) -> TensorRef | None:
        """The source tensor a signature key means, from the user's side rather than the export's tensor names:
        the source's own signature of that key (which the export keeps), or the name --keys gave the key.
        So an export that feeds key 'a' to the tensor key 'b' meant is caught."""
        recipe = self.planned.recipe
        source = None if key == defaults.DEFAULT_SIGNATURE and recipe.names_own_signature else \
            self.planned.source.signatures.get(key)
        if source is not None:
            infos = getattr(source, side)
            return TensorRef.parse(infos[item].name) if item in infos and infos[item].name else None
        named = [name for name, given in (recipe.keys or {}).items() if given == item]
        if len(named) != 1:
            return None
        refs = self.planned.names.get(named[0], ())  # every name the user gave, as the plan resolved it
        if len(refs) == 1:
            return refs[0]
        try:
            return TensorRef.parse(named[0])
        except GraphSurgeonError:
            return None

    def _recorded(self, name: str) -> TensorRef:
        return self.resolved.get(name, TensorRef.parse(name))

    def _counterpart(self, ref: TensorRef) -> tuple[str, int | None] | None:
        graph = self.planned.model.graph
        if ref.node not in graph:
            return None
        dtype = dt.base(output_dtype(graph[ref.node], ref.port, graph))
        mapped = self.graph.tensors.get(ref)
        if mapped is not None:
            return mapped, dtype
        # A tensor inside the cut that a signature feeds (a SavedModel's Identity on a parsed tf.Example).
        return (str(ref), dtype) if ref.node in self.planned.kept else None

    def source_shape(self, model: Model, key: str, input_key: str) -> Shape | None:
        name = model.signatures[key].inputs[input_key].name
        ref = self.resolved.get(name, TensorRef.parse(name))
        source = self.planned.model
        if ref.node not in source.graph or needs_inference(source, [ref], annotations=True):
            return None  # TensorFlow's inference would cost its import; the export's shape search does better
        return static_shape(source, ref, annotations=True)

    def session(self, runs: Sequence[Run]) -> Session:
        return Session([*self.graph.setup, *runs], graph_def=str(self.graph.path))

    def diagnose(self, error: str) -> None:
        """A corrupt tensor among the kept variables is named by graphsurgeon's own streamed check."""
        source = self.planned.model
        for variable in self.graph.variables:
            key = source.checkpoint_key(variable)
            if key in source.weights and dt.itemsize(source.weights[key].dtype):
                for _ in source.weights.chunks(key):
                    pass


def _resolved_names(record: Record | None) -> dict[str, TensorRef]:
    """Export tensor -> source tensor, from what the record says each input became."""
    resolved = record.data.get("resolved", {}) if record is not None else {}
    return {f"{i['placeholder']}:0": TensorRef.parse(i["tensor"]) for i in resolved.get("inputs", [])
            if i.get("placeholder")}


def _reference_recipe(recipe: Recipe, record: Record | None, export: Model) -> Recipe:
    """The recipe whose cut the reference runs: the recorded one, each input shaped as the export's
    Placeholder is; with no record, the export's own signature outputs."""
    if record is None:
        return recipe.replace(outputs=_signature_tensors(export, inputs=False), inputs=None)
    placeholders = {i["name"]: i.get("placeholder") for i in record.data.get("resolved", {}).get("inputs", [])}
    specs = []
    for spec in recipe.input_specs:
        node = export.graph.get(placeholders.get(spec.name) or "")
        stated = node.attrs["shape"].shape if node is not None and node.op == "Placeholder" else None
        if stated is not None and not stated.unknown_rank:
            spec = replace(spec, shape=tuple(d.size for d in stated.dim))
        specs.append(spec)
    return recipe.replace(inputs=tuple(specs) or None)


def _signature_tensors(export: Model, inputs: bool) -> tuple[str, ...]:
    names = [info.name for sig in export.user_signatures.values()
             for info in (sig.inputs if inputs else sig.outputs).values() if info.name]
    return tuple(dict.fromkeys(names))


class SignatureReference(Reference):
    """A TF2 SavedModel re-exported whole: each export signature against the original's of the same key."""

    def __init__(self, path: Path, original: Model):
        self.path, self.original = path, original

    def _twin(self, model: Model, key: str) -> Any:
        """The original's signature: the same key, or the one an export's added serving_default copies."""
        if key in self.original.signatures:
            return self.original.signatures[key]
        exported = model.signatures[key]
        twins = [k for k, s in sorted(model.signatures.items()) if k != key and k in self.original.signatures
                 and dict(s.inputs) == dict(exported.inputs) and dict(s.outputs) == dict(exported.outputs)]
        return self.original.signatures[twins[0]] if twins else None

    def pairing(self, model: Model, key: str) -> Pairing | str:
        original = self._twin(model, key)
        exported = model.signatures[key]
        if original is None:
            return f"the source has no signature {key!r}"
        if set(exported.inputs) - set(original.inputs) or set(exported.outputs) - set(original.outputs):
            return f"signature {key!r} of the source has other keys"
        inputs = {exported.inputs[k].name: (original.inputs[k].name, original.inputs[k].dtype) for k in exported.inputs}
        return Pairing(inputs, {exported.outputs[k].name: original.outputs[k].name for k in exported.outputs})

    def source_shape(self, model: Model, key: str, input_key: str) -> Shape | None:
        original = self._twin(model, key)
        if original is None or input_key not in original.inputs:
            return None
        shape = original.inputs[input_key].tensor_shape
        return None if shape.unknown_rank else tuple(d.size for d in shape.dim)

    def session(self, runs: Sequence[Run]) -> Session:
        tags = list(self.original.meta_info.tags) if self.original.meta_info is not None else [defaults.SERVE_TAG]
        return Session(list(runs), export_dir=str(self.path), tags=tags)


def feed_as(value: np.ndarray, dtype: int | None) -> np.ndarray:
    """An input whose dtype the recipe overrode is fed to the source in the source's own dtype."""
    wanted = dt.numpy_of_or_none(dtype) if dtype is not None else None
    value = np.asarray(value)
    if wanted is None or value.dtype == wanted or value.dtype.kind in "OSU":
        return value
    return value.astype(wanted)


def work_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="graphsurgeon-verify-")
