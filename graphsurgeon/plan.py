"""plan(model, recipe) -> Plan: every name resolved and the cut validated once, before any weight is read.

The Plan is what a run will do: the recipe's bindings applied (a graph edit,
no weight read), the inputs (each with the tensor it replaces and the
Placeholder the cut creates), the outputs, the nodes kept (one backward
sweep), the init ops kept with them, and the variables to freeze. apply()
runs freeze, cut and strip on it without resolving a name or walking the
graph again; audit renders it, so audit reports as a risk exactly what cut
would refuse, with the same words.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graphsurgeon.errors import CutError, UsageError
from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.graph_checks import check_nodes
from graphsurgeon.ir.init_stages import staged
from graphsurgeon.ir.model import Asset, Model
from graphsurgeon.ir.ops import VARIABLE_OPS
from graphsurgeon.ir.shapes import needs_inference, static_shape
from graphsurgeon.ir.signatures import tensor_names
from graphsurgeon.names import TensorRef
from graphsurgeon.recipe import Recipe
from graphsurgeon.surgery.bind import bind
from graphsurgeon.surgery.cut import apply_cut
from graphsurgeon.surgery.cutplan import CutInput, CutPlan, plan_cut
from graphsurgeon.surgery.freeze import freeze
from graphsurgeon.surgery.prune import strip_training
from graphsurgeon.surgery.select import InputSpec, resolve_all


@dataclass(frozen=True)
class Plan:
    """What a run will do; ``problems`` is what a cut would refuse (empty when it is valid)."""

    recipe: Recipe
    source: Model  # the source as loaded
    model: Model  # the source with the recipe's bindings applied
    cut: CutPlan
    variables: tuple[str, ...]  # variable nodes the outputs need, in graph order

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
    def problems(self) -> tuple[CutError, ...]:
        return self.cut.problems

    @property
    def assets(self) -> tuple[Asset, ...]:
        """The asset files the kept graph reads."""
        return tuple(a for a in self.model.assets if a.tensor.node in self.kept)

    def init_stages(self) -> dict[str, list[str]]:
        """The kept init ops by the stage the export's ordered init op runs them in."""
        return staged(self.model.graph, self.init_ops, {a.tensor.node for a in self.model.assets})

    @property
    def tables(self) -> tuple[str, ...]:
        """The kept table initializers."""
        return tuple(self.init_stages()["tables"])

    def check(self) -> "Plan":
        """The plan, or the first thing a cut would refuse."""
        self.cut.check()
        return self

    def variable_bytes(self) -> int:
        """Bytes a freeze of this plan reads: what the kept variables hold in the checkpoint."""
        weights = self.model.weights
        keys = (self.model.variable_keys.get(name, name) for name in self.variables)
        return sum(weights[key].nbytes for key in keys if key in weights)

    def resolved(self) -> dict:
        """The names the recipe resolved to, for the record an export writes (JSON-safe)."""
        return {"inputs": [{"name": i.spec.name, "tensor": str(i.ref), "placeholder": i.placeholder,
                            "shape": _stated_shape(self.model, i.ref)} for i in self.inputs],
                "outputs": [str(r) for r in self.outputs],
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
    """Resolve the recipe's names against ``model`` and validate the cut it describes.

    Raises for names that do not exist or values that cannot be bound (nothing
    could be planned). A cut that is well named but invalid (an unfed
    Placeholder, a boundary inside a while loop) is kept in ``problems`` so
    that audit can report it; ``Plan.check()`` and apply() raise it.
    """
    recipe = recipe or Recipe()
    model.require_graph("plan a cut of")
    specs = recipe.input_specs
    bound = model
    inputs = None
    if recipe.bindings:
        check_nodes(model.graph, model.source.path)  # binding folds values anywhere in the graph
        # bind keeps every name, so inputs resolved before binding stay valid after it
        inputs = resolve_all(model.graph, [s.name for s in specs], "input")
        bound = bind(model, _resolved_bindings(model.graph, recipe.bindings, inputs))
    cut = plan_cut(bound, specs, wanted_outputs(bound, recipe), resolved_inputs=inputs, freezing=True)
    # what the run reads of the graph: a model loaded with check_all_nodes=False is checked only here
    check_nodes(bound.graph, model.source.path, cut.kept | {i.ref.node for i in cut.inputs})
    variables = tuple(name for name, op in bound.graph.name_ops() if op in VARIABLE_OPS and name in cut.kept)
    return Plan(recipe, model, bound, cut, variables)


def apply(planned: Plan) -> Model:
    """freeze, cut and strip as planned: a self-contained model whose kept variables are (lazy) constants."""
    planned.check()
    recipe, model = planned.recipe, planned.model
    frozen = freeze(model, planned.outputs, [i.ref for i in planned.inputs],
                    init_from_initializers=recipe.inits_from_initializers, needed=planned.kept)
    # freeze renames nothing it keeps; the nodes it adds (a frozen value behind a
    # PlaceholderWithDefault, a gather's params) are needed, and those it drops are not.
    before, after = frozenset(model.graph.names), frozenset(frozen.graph.names)
    kept = (planned.kept & after) | (after - before)
    # A resource handle whose reads all became constants is needed no more.
    read = {ref.node for node in frozen.graph.nodes_in(kept) for ref in node.inputs}
    read |= {ref.node for ref in planned.outputs}
    kept -= {name for name in planned.variables
             if name in after and name not in read and frozen.graph[name].op == "VarHandleOp"}
    result = apply_cut(frozen, planned.cut, kept, batch_policy=recipe.batch)
    return strip_training(result, sweep_unreached=False) if recipe.strips else result


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


def _resolved_bindings(graph: Graph, bindings: Mapping[str, object],
                       inputs: Sequence[TensorRef]) -> dict[TensorRef, object]:
    resolved = {}
    for name, value in bindings.items():
        (ref,) = resolve_all(graph, [name], "--set name")
        if ref in inputs:
            raise UsageError(f"--set {name} binds a tensor that is also an input; a bound tensor is a constant, "
                             "so drop it from --inputs or from --set")
        resolved[ref] = value
    return resolved


def extract(model: Model, inputs: Sequence[str | InputSpec], outputs: Sequence[str | TensorRef], *,
            bindings: Mapping[str, object] | None = None, init_from_initializers: bool = False,
            strip: bool = True, batch_policy: str | None = None) -> Model:
    """Bind, freeze what the outputs need, cut between inputs and outputs, strip training nodes.

    The result is self-contained: every variable it keeps is a (lazy) constant.
    ``batch_policy`` ("auto", "dynamic", "static") decides the inputs' batch dimension (surgery/batch.py).
    """
    if not outputs:
        raise CutError("a cut needs at least one output: pass --outputs NODE[:PORT]")
    recipe = Recipe(inputs=tuple(s if isinstance(s, InputSpec) else InputSpec(str(s)) for s in inputs),
                    outputs=tuple(str(o) for o in outputs), bindings=dict(bindings) if bindings else None,
                    init_from_initializers=init_from_initializers, strip=strip, batch=batch_policy)
    return apply(plan(model, recipe))
