"""audit(model): where the bytes are, what a cut saves, and what will break in Serving, as data.

Metadata only: sizes come from the checkpoint index, constant headers and file
sizes, so it is fast on multi-GB models. docs/audit-json.md documents the
JSON form (schema_version 2).
"""
from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graphsurgeon import defaults
from graphsurgeon.audit.risks import Risk, find_risks, tables, training_behaviour_risks
from graphsurgeon.audit.split import KEPT, Split, classify, split_planned
from graphsurgeon.audit.tensors import ASSETS, GRAPH, VARIABLES, Weight, weights_of
from graphsurgeon.errors import CutError, UsageError
from graphsurgeon.formats.limits import PROTO_LIMIT, SERVING_PB_LIMIT
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.resolve import Resolver
from graphsurgeon.ir.sizes import estimated_graph_def_bytes
from graphsurgeon.names import TensorRef
from graphsurgeon.plan import plan, signature_outputs
from graphsurgeon.recipe import Recipe
from graphsurgeon.surgery.select import InputSpec
from graphsurgeon.surgery.training import removal_group

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Storage:
    graph: int = 0
    variables: int = 0
    assets: int = 0

    @property
    def total(self) -> int:
        return self.graph + self.variables + self.assets


@dataclass(frozen=True)
class Part:
    """Kept or removable: node count and bytes by where they are stored."""

    nodes: int
    bytes: Storage


@dataclass(frozen=True)
class RemovableGroup:
    group: str
    reason: str
    nodes: int
    nbytes: int


@dataclass(frozen=True)
class Headroom:
    graph_def_bytes: int  # the graph proto as it is now (constants inline, variables not)
    frozen_graph_def_bytes: int  # after freezing what is kept: every kept variable inline
    saved_model_pb_bytes: int  # graphsurgeon's export of what is kept: large constants in variables/
    proto_limit: int = PROTO_LIMIT
    serving_pb_limit: int = SERVING_PB_LIMIT
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Budget:
    limit: int
    kept: int
    ok: bool


@dataclass(frozen=True)
class FatedWeight:
    """A source weight and its fate: KEPT or the reason the cut removes it."""

    weight: Weight
    fate: str


@dataclass(frozen=True)
class AuditReport:
    schema_version: int
    model: dict
    nodes: int
    total: Storage
    kept: Part  # the cut's nodes and bytes, as `cut` reports them
    removable: Part  # the source nodes the cut drops, and their bytes
    removable_groups: list[RemovableGroup]
    groups: list[dict]  # kept bytes by --by (scope tree, op or dtype), each {"name", "nbytes", "count", "children"}
    top: list[Weight]  # the largest kept tensors
    top_removed: list[Weight]  # the largest removed ones
    headroom: Headroom
    risks: list[Risk]
    tables: list[dict]
    budget: Budget | None = None
    weights: tuple[FatedWeight, ...] = ()  # the kept weights and the removed ones with why, for the HTML page

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (docs/audit-json.md)."""
        data = dataclasses.asdict(dataclasses.replace(self, weights=()))
        del data["weights"]
        return data


def audit(model: Model, inputs: Sequence[str] = (), outputs: Sequence[str] = (), *, by: str = "scope",
          top: int = 10, depth: int = 2, budget: int | None = None, recipe: Recipe | None = None) -> AuditReport:
    """The size and risk report for ``model`` cut between ``inputs`` and ``outputs`` (or as ``recipe`` says).

    Without outputs, the outputs of the model's signatures are used; a model
    with neither is audited whole. A traced model is audited through the same
    Plan a cut or export makes, applied as cut applies it (freeze, cut, strip)
    without reading a weight: its kept nodes and bytes are the cut's, and what
    the cut would refuse is reported as a risk, in the same words.
    """
    if top < 0 or depth < 0:
        raise UsageError(f"--top {top} / --depth {depth}: give counts of 0 or more")
    recipe = _recipe(recipe, inputs, outputs)
    cut = _cut(model, recipe)
    model, split = cut.model, cut.split
    weights = weights_of(model)
    kept_weights, removed_weights = _kept_and_removed(model, split, weights)
    kept_names = {name for name, reason in split.reasons.items() if reason == KEPT}
    kept_nodes = len(split.result.graph) if split.result is not None else len(kept_names)
    removed_nodes = sum(1 for reason in split.reasons.values() if reason != KEPT)
    kept = Part(kept_nodes, _storage(kept_weights))
    by_size = functools.partial(sorted, key=lambda w: (-w.nbytes, w.name))
    return AuditReport(
        schema_version=SCHEMA_VERSION,
        model={"path": model.source.path, "format": model.source.format,
               "inputs": [str(r) for r in cut.inputs], "outputs": [str(r) for r in cut.outputs]},
        nodes=len(model.graph),
        total=_storage(weights),
        kept=kept,
        removable=Part(removed_nodes, _storage(removed_weights)),
        removable_groups=_removable_groups(model, split.reasons, removed_weights),
        groups=_groups(kept_weights, by, depth),
        top=by_size(kept_weights)[:top],
        top_removed=by_size(removed_weights)[:top],
        headroom=_headroom(model, kept_names, kept_weights),
        risks=cut.risks + find_risks(model, kept_names),
        tables=tables(model, kept_names),
        budget=Budget(budget, kept.bytes.total, kept.bytes.total <= budget) if budget is not None else None,
        weights=(*(FatedWeight(w, KEPT) for w in kept_weights),
                 *(FatedWeight(w, split.reasons[w.name]) for w in removed_weights)),
    )


@dataclass(frozen=True)
class _Cut:
    model: Model  # the source with the recipe's bindings applied
    inputs: tuple[TensorRef, ...]
    outputs: tuple[TensorRef, ...]
    split: Split
    risks: list[Risk]


def _cut(model: Model, recipe: Recipe) -> _Cut:
    """The cut as ``cut`` makes it; a model loaded without its graph (Keras read by h5py) by reachability."""
    if model.source.traced and (recipe.outputs or signature_outputs(model) or model.outputs):
        planned = plan(model, recipe)
        split = split_planned(planned)
        refusals = [*planned.problems, *([split.refused] if split.refused else [])]
        risks = [Risk(f"{'cut' if isinstance(p, CutError) else 'freeze'} refused", p.node, str(p),
                      "change the recipe as it says") for p in refusals]
        risks += training_behaviour_risks(planned.training_behaviour)
        return _Cut(planned.model, planned.input_refs, planned.outputs, split, risks)
    names = Resolver(model)
    input_refs = tuple(names.tensor(s.name, "input") for s in recipe.input_specs)
    wanted = list(recipe.outputs or ()) or signature_outputs(model) or [str(r) for r in model.outputs]
    output_refs = names.all(wanted, "output")
    return _Cut(model, input_refs, output_refs, Split(classify(model, input_refs, output_refs), None), [])


def _kept_and_removed(model: Model, split: Split, weights: Sequence[Weight]) -> tuple[list[Weight], list[Weight]]:
    """The weights the cut keeps (each as the source holds it) and those it drops.

    A variable frozen into its reads (a VarHandleOp read by ReadVariableOp) lives
    on in the constants that replace the reads, as the cut counts it.
    """
    if split.result is None:
        kept = [w for w in weights if split.reasons[w.name] == KEPT]
        return kept, [w for w in weights if split.reasons[w.name] != KEPT]
    source = {w.name: w for w in weights}
    kept = [source.get(w.name, w) for w in weights_of(split.result)]
    moved = {n.weight for n in split.result.graph if n.weight is not None}
    removed = [w for w in weights if split.reasons[w.name] != KEPT
               and model.checkpoint_key(w.name) not in moved]
    return kept, removed


def _recipe(recipe: Recipe | None, inputs: Sequence[str], outputs: Sequence[str]) -> Recipe:
    if recipe is not None:
        return recipe
    specs = tuple(s if isinstance(s, InputSpec) else InputSpec.parse(str(s)) for s in inputs)
    return Recipe(inputs=specs or None, outputs=tuple(str(o) for o in outputs) or None)


def _storage(weights: Sequence[Weight]) -> Storage:
    sums: defaultdict[str, int] = defaultdict(int)
    for w in weights:
        sums[w.storage] += w.nbytes
    return Storage(sums[GRAPH], sums[VARIABLES], sums[ASSETS])


def _removable_groups(model: Model, reasons: dict[str, str], removed: Sequence[Weight]) -> list[RemovableGroup]:
    nbytes: defaultdict[str, int] = defaultdict(int)
    for w in removed:
        nbytes[w.name] += w.nbytes
    groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for node in model.graph:
        reason = reasons[node.name]
        if reason != KEPT:
            entry = groups[(removal_group(node.name, node.op), reason)]
            entry[0] += 1
            entry[1] += nbytes.get(node.name, 0)
    return sorted((RemovableGroup(g, r, n, b) for (g, r), (n, b) in groups.items()),
                  key=lambda g: (-g.nbytes, -g.nodes, g.group, g.reason))


def _groups(weights: Sequence[Weight], by: str, depth: int) -> list[dict]:
    if by == "scope":
        return _scope_tree(weights, depth)
    key = {"op": lambda w: w.op, "dtype": lambda w: w.dtype}[by]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for w in weights:
        totals[key(w)][0] += w.nbytes
        totals[key(w)][1] += 1
    return sorted(({"name": k, "nbytes": b, "count": c, "children": []} for k, (b, c) in totals.items()),
                  key=lambda g: (-g["nbytes"], g["name"]))


def _scope_tree(weights: Sequence[Weight], depth: int) -> list[dict]:
    """Name scopes as a tree with byte subtotals, cut off at ``depth`` levels."""
    root: dict = {"children": {}}
    for w in weights:
        node = root
        parts = w.name.split("/")
        for part in parts[:depth] if len(parts) > 1 else parts:
            node = node["children"].setdefault(part, {"nbytes": 0, "count": 0, "children": {}})
            node["nbytes"] += w.nbytes
            node["count"] += 1

    def listed(children: dict) -> list[dict]:
        return sorted(({"name": k, "nbytes": v["nbytes"], "count": v["count"], "children": listed(v["children"])}
                       for k, v in children.items()), key=lambda g: (-g["nbytes"], g["name"]))

    return listed(root["children"])


def _headroom(model: Model, kept_names: set[str], kept_weights: Sequence[Weight]) -> Headroom:
    graph_def = estimated_graph_def_bytes(model)
    kept_graph = model.graph.with_nodes(n for n in model.graph if n.name in kept_names)
    kept_proto = estimated_graph_def_bytes(model.replace(graph=kept_graph))
    variable_bytes = sum(w.nbytes for w in kept_weights if w.storage == VARIABLES)
    large_inline = sum(w.nbytes for w in kept_weights if w.storage == GRAPH and w.nbytes >= defaults.INLINE_LIMIT)
    frozen = kept_proto + variable_bytes
    saved_model_pb = kept_proto - large_inline
    notes = [f"freezing inlines {variable_bytes} bytes of variables: the frozen GraphDef would be {frozen} bytes, "
             f"{100 * frozen / PROTO_LIMIT:.1f}% of protobuf's 2 GiB limit"]
    if frozen >= PROTO_LIMIT:
        notes.append("a frozen GraphDef cannot be written at all; export a SavedModel (weights stay in variables/)")
    if graph_def >= SERVING_PB_LIMIT:
        notes.append("the graph proto alone is over 1 GiB, which some Serving versions refuse; export with "
                     "graphsurgeon, which moves large constants to variables/")
    return Headroom(graph_def, frozen, saved_model_pb, notes=notes)
