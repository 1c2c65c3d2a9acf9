"""plan_cut(model, specs, inputs, outputs): the cut of resolved tensors validated, in one sweep.

Nothing here changes the graph or reads a weight. The result says which nodes
the outputs need (one backward sweep that stops at the inputs and takes the
init ops of what it keeps), the Placeholder each input becomes, and what a
cut would refuse: an unfed Placeholder, iterator or queue, or a boundary
inside a while loop. cut() applies it; graphsurgeon.plan wraps it for a Recipe
and audit reports its problems with the same words.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from graphsurgeon.errors import CutError
from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import PLACEHOLDER_OPS, UNFED_SOURCE_OPS
from graphsurgeon.ir.signatures import tensor_nodes
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery import frames
from graphsurgeon.surgery.assets import asset_path_variables
from graphsurgeon.surgery.reach import Reach, reach_with_init
from graphsurgeon.surgery.select import InputSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CutInput:
    """A cut input: the tensor it replaces, how the user spelled it, and its Placeholder's name."""

    ref: TensorRef
    spec: InputSpec
    placeholder: str


@dataclass(frozen=True)
class CutPlan:
    inputs: tuple[CutInput, ...]
    outputs: tuple[TensorRef, ...]
    reach: Reach
    init_ops: tuple[str, ...]
    problems: tuple[CutError, ...]

    @property
    def kept(self) -> frozenset[str]:
        return self.reach.kept

    def check(self) -> "CutPlan":
        if self.problems:
            raise self.problems[0]
        return self


def plan_cut(model: Model, specs: Sequence[InputSpec], input_refs: Sequence[TensorRef],
             output_refs: Sequence[TensorRef], freezing: bool = False) -> CutPlan:
    """Sweep back from the resolved ``output_refs`` once, stopping at ``input_refs`` (``specs[i]`` is how the
    user spelled input i, with the dtype and shape its Placeholder gets).

    With no inputs, the graph's own Placeholders that the outputs reach (or its
    signatures name) stay its inputs. ``freezing``: a freeze follows, so only
    the init ops of variables it leaves alone (asset paths) are kept.
    """
    model.require_graph("cut")
    graph = model.graph
    if not output_refs:
        raise CutError("a cut needs at least one output: pass --outputs NODE[:PORT]")
    specs, input_refs, output_refs = tuple(specs), tuple(input_refs), tuple(output_refs)
    gone = [ref for ref in (*input_refs, *output_refs) if ref.node not in graph]
    if gone:  # resolved in the source, then folded away by --set
        raise CutError(f"{gone[0]} is in an untaken branch of a cond that --set decided, so it no longer exists; "
                       "choose a tensor outside that branch", gone[0].node)
    problems = _loop_frame_problems(graph, input_refs, output_refs)
    stays_variable = _asset_path_test(model) if freezing else None
    reached, init_ops = reach_with_init(graph, model.init_ops, output_refs, input_refs, stays_variable)
    if not specs:
        specs, input_refs, reached = _own_placeholders(model, reached)
    problems += _unfed_problems(graph, reached)
    for ref in input_refs:
        if ref not in reached.used_inputs:
            log.warning("input %s is not used by any output; it stays as an unconnected Placeholder", ref)
    names = placeholder_names(graph, input_refs, reached.kept)
    planned = tuple(CutInput(ref, spec, names[ref]) for ref, spec in zip(input_refs, specs))
    return CutPlan(planned, output_refs, reached, tuple(init_ops), tuple(problems))


def _own_placeholders(model: Model, reached: Reach) -> tuple[tuple[InputSpec, ...], tuple[TensorRef, ...], Reach]:
    named = {node for sig in model.signatures.values() for node in tensor_nodes(sig)}
    refs = tuple(TensorRef(n.name) for n in model.graph
                 if (n.name in reached.kept or n.name in named) and n.op in PLACEHOLDER_OPS)
    # A Placeholder has no inputs, so stopping the sweep at it only takes it out of the kept set.
    kept = reached.kept - {r.node for r in refs}
    return tuple(InputSpec(str(r)) for r in refs), refs, Reach(kept, reached.parent, frozenset(refs))


def _asset_path_test(model: Model) -> Callable[[str], bool]:
    """name -> whether a freeze leaves that variable a variable: it holds an asset's path."""
    if not model.assets:
        return lambda name: False
    return lambda name: bool(asset_path_variables(model, [model.graph[name]]))


def placeholder_names(graph: Graph, inputs: Sequence[TensorRef], kept: frozenset[str]) -> dict[TensorRef, str]:
    """Port-0 inputs keep their node's name, so feeds and control edges still match."""
    taken = set(kept)
    names = {}
    for ref in inputs:
        name = ref.node if ref.port == 0 else f"{ref.node}_{ref.port}"
        while name in taken or (name != ref.node and name in graph):
            name += "_input"
        taken.add(name)
        names[ref] = name
    return names


def _loop_frame_problems(graph: Graph, inputs: Sequence[TensorRef], outputs: Sequence[TensorRef]) -> list[CutError]:
    if not frames.has_loops(graph):
        return []
    frame = frames.node_frames(graph)
    return [CutError(
        f"cannot cut at {kind} {ref}: node {ref.node!r} ({graph[ref.node].op}) runs inside while loop "
        f"frame {frame[ref.node].lstrip('/')!r}, and a loop cannot be split; cut before its Enter "
        "nodes or after the nodes that consume its Exit outputs", ref.node)
        for kind, refs in (("input", inputs), ("output", outputs)) for ref in refs
        if frame.get(ref.node, frames.ROOT) != frames.ROOT]


def _unfed_problems(graph: Graph, reached: Reach) -> list[CutError]:
    """A kept feed-needing source is unfed: the walk stops at input tensors, so a source is
    kept only if an output needs one of its ports that is not an input."""
    for name in sorted(reached.kept):
        node = graph[name]
        if node.op in UNFED_SOURCE_OPS:
            path = " <- ".join(reached.path_to(name))
            return [CutError(
                f"the outputs still depend on {node.op} {name!r}, which is not among the inputs "
                f"(path: {path}); add it to --inputs, or cut at a tensor below it", name)]
    return []
