"""plan(model, recipe) -> Plan: every name resolved and the cut validated once, before any weight is read.

The Plan is what a run will do: every name the recipe holds resolved once
(inputs, outputs, bindings, signature keys, the front end's image input, the
head's output; Keras layer names included), the recipe's bindings applied (a
graph edit, no weight read), the nodes kept (one backward sweep), the init ops
kept with them, the variables to freeze with their checkpoint keys, and every
refusal a cut, freeze or export would raise. Plan.apply() runs freeze, cut and
strip on it without resolving a name or walking the graph again; audit renders
it, so audit reports as a risk exactly what cut would refuse, in the same words.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graphsurgeon.errors import GraphSurgeonError, NameNotFoundError, UsageError, close_matches
from graphsurgeon.ir.init_stages import staged
from graphsurgeon.ir.model import Asset, Model
from graphsurgeon.ir.resolve import CALL_SITE, Resolver
from graphsurgeon.ir.shapes import needs_inference, static_shape
from graphsurgeon.ir.signatures import tensor_names
from graphsurgeon.names import TensorRef
from graphsurgeon.recipe import Recipe
from graphsurgeon.surgery.bind import bind
from graphsurgeon.surgery.cut import apply_cut
from graphsurgeon.surgery.cutplan import CutInput, CutPlan, plan_cut
from graphsurgeon.surgery.freeze import FreezePlan, freeze_planned, plan_freeze
from graphsurgeon.surgery.heads import OUTPUTS as HEAD_OUTPUTS
from graphsurgeon.surgery.masks import warn_dropped_masks
from graphsurgeon.surgery.prune import strip_training
from graphsurgeon.surgery.switches import TrainingBehaviour, find_training_behaviour, warn


@dataclass(frozen=True)
class Plan:
    """What a run will do; ``problems`` is what a cut, freeze or export would refuse (empty when it is valid).

    ``names`` maps every name the recipe gave (and the source's own outputs, when
    it named none) to the tensors it resolved to. ``keys`` maps exported tensors
    to the signature keys the recipe chose (``--keys``, or a Keras layer's name).
    ``image_input`` and ``head_output`` are the exported tensors the front end
    and the head attach to.
    """

    recipe: Recipe
    source: Model  # the source as loaded
    model: Model  # the source with the recipe's bindings applied
    cut: CutPlan
    freezing: FreezePlan
    names: Mapping[str, tuple[TensorRef, ...]]
    bindings: Mapping[TensorRef, object]
    keys: Mapping[TensorRef, str]
    image_input: TensorRef | None = None
    head_output: TensorRef | None = None
    # switches the cut leaves at training behaviour, and random ops (surgery/switches.py); apply() warns
    training_behaviour: tuple[TrainingBehaviour, ...] = ()

    @property
    def inputs(self) -> tuple[CutInput, ...]:
        return self.cut.inputs

    @property
    def input_refs(self) -> tuple[TensorRef, ...]:
        return tuple(i.ref for i in self.cut.inputs)

    @property
    def outputs(self) -> tuple[TensorRef, ...]:
        return self.cut.outputs

    @property
    def kept(self) -> frozenset[str]:
        return self.cut.kept

    @property
    def init_ops(self) -> tuple[str, ...]:
        return self.cut.init_ops

    @property
    def variables(self) -> tuple[str, ...]:
        """Variable nodes the outputs need, in graph order."""
        return self.freezing.variables

    @property
    def checkpoint_keys(self) -> Mapping[str, str]:
        """Each variable frozen from the checkpoint -> its checkpoint key (``shared_name`` honoured)."""
        return self.freezing.keys

    @property
    def problems(self) -> tuple[GraphSurgeonError, ...]:
        return (*self.cut.problems, *self.freezing.problems)

    @property
    def assets(self) -> tuple[Asset, ...]:
        """The asset files the kept graph reads."""
        return tuple(a for a in self.model.assets if a.tensor.node in self.kept)

    def exported(self, ref: TensorRef) -> TensorRef:
        """The tensor of the export that stands for source tensor ``ref`` (an input's is its Placeholder)."""
        for cut_input in self.cut.inputs:
            if cut_input.ref == ref:
                return TensorRef(cut_input.placeholder)
        return ref

    def init_stages(self) -> dict[str, list[str]]:
        """The kept init ops by the stage the export's ordered init op runs them in."""
        return staged(self.model.graph, self.init_ops, {a.tensor.node for a in self.model.assets})

    @property
    def tables(self) -> tuple[str, ...]:
        """The kept table initializers."""
        return tuple(self.init_stages()["tables"])

    def check(self) -> "Plan":
        """The plan, or the first thing it would refuse."""
        if self.problems:
            raise self.problems[0]
        return self

    def variable_bytes(self) -> int:
        """Bytes a freeze of this plan reads: what the kept variables hold in the checkpoint."""
        weights = self.model.weights
        return sum(weights[key].nbytes for key in self.checkpoint_keys.values())

    def apply(self) -> Model:
        """Freeze, cut and strip as planned: a self-contained model whose kept variables are (lazy) constants."""
        self.check()
        warn(self.training_behaviour)
        frozen, unread, added = freeze_planned(self.model, self.freezing)
        # freeze renames nothing it keeps; the nodes it adds are needed, and handles it stopped reading are not.
        kept = (self.kept - unread) | added
        result = apply_cut(frozen, self.cut, kept, batch_policy=self.recipe.batch)
        return strip_training(result, sweep_unreached=False) if self.recipe.strips else result

    def resolved(self) -> dict:
        """The names the recipe resolved to, for the record an export writes (JSON-safe)."""
        return {"inputs": [{"name": i.spec.name, "tensor": str(i.ref), "placeholder": i.placeholder,
                            "shape": _stated_shape(self.model, i.ref)} for i in self.inputs],
                "outputs": [str(r) for r in self.outputs],
                "names": {name: [str(r) for r in refs] for name, refs in sorted(self.names.items())},
                "bindings": sorted((self.recipe.bindings or {}).keys()),
                "variables": len(self.variables), "kept_nodes": len(self.kept),
                "assets": [a.filename for a in self.assets],
                "init_stages": {k: v for k, v in self.init_stages().items() if v}}


def _stated_shape(model: Model, ref: TensorRef) -> list[int] | None:
    """The shape the source's graph states for an input (attrs only, no TensorFlow): verify's evidence for sizes."""
    if needs_inference(model, [ref], annotations=True):
        return None
    shape = static_shape(model, ref, annotations=True)
    return list(shape) if shape is not None else None


def plan(model: Model, recipe: Recipe | None = None) -> Plan:
    """Resolve the recipe's names against ``model`` and validate the cut, freeze and export it describes.

    Raises for names that do not exist or values that cannot be bound (nothing
    could be planned). A well-named run that would be refused (an unfed
    Placeholder, a boundary inside a while loop, a variable with no value, an
    output that updates state) is kept in ``problems`` so that audit can report
    it; ``Plan.check()`` and ``Plan.apply()`` raise it.
    """
    recipe = recipe or Recipe()
    model.require_graph("plan a cut of")
    names = Resolver(model)
    specs = recipe.input_specs
    inputs = tuple(names.tensor(s.name, "input") for s in specs)
    bindings = _bindings(names, recipe.bindings or {}, inputs)
    bound = bind(model, bindings) if bindings else model
    outputs = names.all(wanted_outputs(model, recipe), "output")
    cut = plan_cut(bound, specs, inputs, outputs, freezing=True)
    warn_dropped_masks(bound, cut.outputs)
    freezing = plan_freeze(bound, cut.outputs, cut.kept, recipe.inits_from_initializers)
    planned = Plan(recipe, model, bound, cut, freezing, {}, bindings, {})
    image_input = planned.exported(names.tensor(recipe.front_end.image_input, "--image-input")) \
        if recipe.front_end else None
    head_output = _head_output(planned, names)
    keys = {**_layer_keys(planned, names), **_user_keys(planned, names)}
    behaviour = () if recipe.stochastic else find_training_behaviour(bound.graph, cut.kept,
                                                                     {i.ref.node for i in cut.inputs})
    return Plan(recipe, model, bound, cut, freezing, names.resolved(), bindings, keys, image_input, head_output,
                behaviour)


def wanted_outputs(model: Model, recipe: Recipe) -> list[str]:
    """The recipe's outputs, else the source's signature outputs, else a Keras model's output layers."""
    wanted = list(recipe.outputs or ()) or signature_outputs(model) or [str(r) for r in model.outputs]
    if not wanted:
        raise UsageError(f"{model.source.path or 'the model'} has no signatures or outputs to keep; "
                         "name what to keep with --outputs")
    return wanted


def signature_outputs(model: Model) -> list[str]:
    """Every output tensor of the model's own signatures, in key order, once each."""
    names = [name for sig in model.user_signatures.values()
             for name in tensor_names(sig, outputs_only=True)]
    return list(dict.fromkeys(names))


def _bindings(names: Resolver, given: Mapping[str, object], inputs: Sequence[TensorRef]) -> dict[TensorRef, object]:
    resolved = {}
    for name, value in given.items():
        ref = names.tensor(name, "--set name")
        if ref in inputs:
            raise UsageError(f"--set {name} binds a tensor that is also an input; a bound tensor is a constant, "
                             "so drop it from --inputs or from --set")
        resolved[ref] = value
    return resolved


def _head_output(planned: Plan, names: Resolver) -> TensorRef | None:
    head = planned.recipe.head
    if head is None:
        return None
    if head.output is not None:
        ref = names.tensor(head.output, "--top-k-output")
        if ref not in planned.outputs:
            raise UsageError(f"--top-k-output {head.output} is not among the outputs "
                             f"({', '.join(str(r) for r in planned.outputs)}); add it to --outputs")
        return planned.exported(ref)
    if len(planned.outputs) != 1:
        raise UsageError(f"the model has {len(planned.outputs)} outputs; choose the one for --top-k with "
                         f"--top-k-output (one of {', '.join(str(r) for r in planned.outputs)})")
    return planned.exported(planned.outputs[0])


def _user_keys(planned: Plan, names: Resolver) -> dict[TensorRef, str]:
    """--keys NAME=KEY by exported tensor. NAME is any name the user typed for an input or output (node,
    tensor, Keras layer, the source's name of an input the cut renamed, or the name the cut gave it)."""
    placeholders = {i.placeholder: i.ref for i in planned.inputs}
    ends = {*planned.input_refs, *planned.outputs}
    keys: dict[TensorRef, str] = {}
    for name, key in (planned.recipe.keys or {}).items():
        if planned.recipe.head is not None and name in HEAD_OUTPUTS:
            keys[TensorRef(name)] = key
            continue
        try:
            refs = (placeholders[name],) if name in placeholders else names.tensors(name, "--keys name")
        except NameNotFoundError:
            refs = ()
        if not refs or not set(refs) <= ends:
            near = close_matches(name, _end_names(planned)) if not refs else []  # a typo, not another tensor
            raise UsageError(f"--keys {name}={key}: {name!r} is neither an input nor an output of the export; "
                             + (f"did you mean {near[0]!r}? " if near else "")
                             + f"name one of: {', '.join(_end_names(planned))}")
        keys.update({planned.exported(ref): _numbered(key, i) for i, ref in enumerate(refs)})
    return keys


def _layer_keys(planned: Plan, names: Resolver) -> dict[TensorRef, str]:
    """An input or output named by a Keras layer is keyed by the layer's name (model@1 -> model_1,
    functional_4/dense -> functional_4_dense), not by its tensor's node."""
    keys: dict[TensorRef, str] = {}
    given = [(s.name, "input") for s in planned.recipe.inputs or ()] + \
        [(name, "output") for name in planned.recipe.outputs or ()]
    for name, what in given:
        if TensorRef.parse(name).node in planned.model.graph:
            continue
        key = name.replace(CALL_SITE, "_").replace("/", "_")
        keys.update({planned.exported(ref): _numbered(key, i) for i, ref in enumerate(names.tensors(name, what))})
    return keys


def _numbered(key: str, index: int) -> str:
    return key if index == 0 else f"{key}_{index}"


def _end_names(planned: Plan) -> list[str]:
    spelled = [i.spec.name for i in planned.inputs] + list(planned.recipe.outputs or ())
    return spelled or [str(r) for r in (*planned.input_refs, *planned.outputs)]
