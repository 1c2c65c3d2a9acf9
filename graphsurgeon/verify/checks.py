"""The verdict on one signature, from its runs: it ran, it is deterministic, its batch is free, its outputs match.

Each signature runs on its main inputs twice (the same arrays: outputs that
differ are stochastic, and the random ops and the PlaceholderWithDefault that
turns them on are named), then at a second batch size when its batch is
unknown (a failure there names the node that pins the batch). The source runs
the same inputs, and each output is compared at every batch (compare.py).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from graphsurgeon import defaults
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.names import TensorRef
from graphsurgeon.verify.compare import OutputCheck, Tolerance, check_output, same_outputs, tolerance
from graphsurgeon.verify.inputs import InventedInput

FAILED_NODE = re.compile(r"\{\{node ([^}]+)\}\}")  # how TensorFlow's runtime errors name the node that failed
REPEAT = 1  # runs of a signature: [main, main again, other batches...]


@dataclass(frozen=True)
class SignatureCheck:
    key: str
    ran: bool
    note: str = ""  # why it failed, or was not compared
    outputs: list[OutputCheck] = field(default_factory=list)
    inputs: list[InventedInput] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # findings that are not failures
    ok: bool = True
    batch_pinned: bool = False  # a batch the graph pins makes it fail (or, before verify's retry, may)
    error: str = ""  # the runtime's error when it did not run, with the node it names described


@dataclass(frozen=True)
class Runs:
    """One side's runs of a signature: per run, its outputs (sorted output keys) or its error."""

    outputs: Sequence[list[np.ndarray] | None]
    errors: Sequence[str | None]

    def error(self, i: int) -> str | None:
        return None if self.outputs[i] is not None else (self.errors[i] or "did not run")


@dataclass(frozen=True)
class Verdict:
    """What checks need besides the runs."""

    key: str
    output_keys: list[str]
    batches: list[int | None]
    invented: list[InventedInput]
    graph: Graph  # the export's, to name the nodes behind a failure
    atol: Tolerance = defaults.ATOL
    rtol: Tolerance = defaults.RTOL
    allow_empty: frozenset[str] | bool = False
    uncompared: str = ""  # why there is no source to compare with (empty: there is one, or no reference at all)
    samples: bool = False  # the recipe says the model samples on purpose (--stochastic): runs may differ


def first_line(error: str) -> str:
    return error.strip().splitlines()[0] if error.strip() else error


def judge(v: Verdict, export: Runs, source: Runs | None) -> SignatureCheck:
    batches = [b for b in v.batches if b is not None]
    failed = export.error(0)
    if failed is not None:
        # Maybe a batch the graph pins: verify retries at another batch to tell (see verify._checked).
        suspect = v.batches[0] is not None and FAILED_NODE.search(failed) is not None
        return SignatureCheck(v.key, False, _failure(v, failed), inputs=v.invented, batches=batches, ok=False,
                              batch_pinned=suspect, error=_described(failed, v.graph))
    notes, problems = [], []
    problems += _pinned_batch(v, export, source)
    stochastic = _stochastic(v, export, "the export is stochastic")
    if v.samples:  # as recorded: two runs differ, so outputs cannot be compared number for number
        notes += [f"not compared with the source: the recipe says the model samples on purpose (--stochastic)"
                  f"{'; ' + stochastic[0].split(': ', 1)[1] if stochastic else ''}"]
        source = None
    problems += [] if v.samples else stochastic
    if source is not None:
        source_failed = source.error(0)
        if source_failed is not None:
            problems.append(f"the source failed on the same inputs: {first_line(source_failed)}")
            source = None
        else:
            notes += [n.split(";")[0] for n in _stochastic(v, source, "the source is stochastic too")]
    elif v.uncompared:
        notes.append(f"not compared with the source: {v.uncompared}")
    outputs = _outputs(v, export, source)
    ok = not problems and all(o.ok for o in outputs)
    return SignatureCheck(v.key, True, "; ".join(problems), outputs, v.invented, batches, notes, ok)


def _outputs(v: Verdict, export: Runs, source: Runs | None) -> list[OutputCheck]:
    """One check per output key, over every run that ran on both sides (the repeat left out)."""
    pairs = [(export.outputs[i], source.outputs[i] if source is not None else None)
             for i in range(len(export.outputs)) if i != REPEAT]
    ran = [(out, ref) for out, ref in pairs if out is not None and (source is None or ref is not None)]
    checks = []
    for j, key in enumerate(v.output_keys):
        values = [out[j] for out, _ in ran if out is not None]
        expected = [ref[j] for _, ref in ran if ref is not None] if source is not None else None
        allowed = v.allow_empty is True or (isinstance(v.allow_empty, frozenset) and key in v.allow_empty)
        checks.append(check_output(v.key, key, values, expected, v.atol, v.rtol, allowed))
    return checks


def _stochastic(v: Verdict, runs: Runs, side: str) -> list[str]:
    if len(runs.outputs) <= REPEAT or runs.outputs[REPEAT] is None:
        return []
    first, again = runs.outputs[0], runs.outputs[REPEAT]
    assert again is not None
    atol = min(tolerance(v.atol, v.key, k, defaults.ATOL) for k in v.output_keys) if v.output_keys else 0.0
    rtol = min(tolerance(v.rtol, v.key, k, defaults.RTOL) for k in v.output_keys) if v.output_keys else 0.0
    if first is None or same_outputs(first, again, max(atol, 0.0), max(rtol, 0.0)):
        return []
    return [f"{side}: two runs on the same inputs differ; {random_sources(v.graph)}"]


def random_sources(graph: Graph) -> str:
    """The random ops and the PlaceholderWithDefault nodes upstream of them that switch them on."""
    random = [n for n in graph if "seed" in n.attrs and "seed2" in n.attrs and not n.op.startswith("Stateless")]
    if not random:
        return "no random op is named in the graph"
    upstream = _upstream(graph, [n.name for n in random])
    switches = [graph[name] for name in sorted(upstream) if _switch(graph[name])]
    switches += [graph[name] for name in sorted(_beside(graph, random) - upstream)
                 if _switch(graph[name], unknown_rank=True)]  # keep_prob + random_uniform: tf2onnx drops its shape
    text = "random ops " + ", ".join(f"{n.op} {n.name!r}" for n in random[:5]) + (" ..." if len(random) > 5 else "")
    for switch in switches:
        default = _const_value(graph, switch.inputs[0]) if switch.inputs else None
        if default is not None and default.dtype == bool and default.size == 1:
            flag = str(not bool(default.ravel()[0])).lower()
            text += (f"; PlaceholderWithDefault {switch.name!r} defaults to {bool(default.ravel()[0])} and turns them "
                     f"on: export with --set {switch.name}={flag}")
        else:
            text += (f"; {switch.op} {switch.name!r} feeds them: export with --set {switch.name}=VALUE, the value "
                     "that turns them off (a keep probability of 1.0, a rate of 0.0)")
    return text


def _switch(node: Node, unknown_rank: bool = False) -> bool:
    """A PlaceholderWithDefault, or a scalar Placeholder (a keep probability, a training flag): not a data input.
    With ``unknown_rank``, a Placeholder that states no shape counts too."""
    if node.op == "PlaceholderWithDefault":
        return True
    if node.op != "Placeholder":
        return False
    shape = node.attrs["shape"].shape if "shape" in node.attrs else None
    if shape is None or shape.unknown_rank:
        return unknown_rank
    return not shape.dim


def _beside(graph: Graph, random: list[Node], hops: int = 3) -> set[str]:
    """The nodes that feed the ops within ``hops`` downstream of a random op: a dropout adds its keep probability
    to the draw after scaling it to its range (RandomUniform -> mul -> add -> add keep_prob)."""
    readers: set[str] = set()
    frontier = {n.name for n in random}
    for _ in range(hops):
        frontier = {name for node in frontier for name, _ in graph.data_consumers.get(TensorRef(node), ())} - readers
        readers |= frontier
    return {ref.node for name in readers for ref in graph[name].inputs} - readers - {n.name for n in random}


def _upstream(graph: Graph, starts: list[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        name = stack.pop()
        if name not in seen and name in graph:
            seen.add(name)
            stack.extend(graph[name].input_nodes())
    return seen


def _failure(v: Verdict, error: str) -> str:
    """Why the main run failed: inputs the graph does not take (a batch it pins is told apart later)."""
    if v.invented:
        return (f"failed on the inputs verify invented: {_described(error, v.graph)}; "
                "pass inputs it takes with --feeds FILE.npz")
    return f"failed on the given inputs: {_described(error, v.graph)}"


def pinned(batch: int, described: str, runs: int | None = None) -> str:
    """A batch the signature leaves free fails where another batch runs: the node that fails pins it."""
    other = f" while batch {runs} runs" if runs is not None else ""
    return (f"batch {batch} fails{other}, although the signature accepts any batch, so Serving requests of other "
            f"batches fail too: {described}; the graph pins the batch there (export with --static-batch so the "
            "signature says which batch it takes)")


def _pinned_batch(v: Verdict, export: Runs, source: Runs | None) -> list[str]:
    """A second batch size that fails in the export: the node that fails is the one that pins the batch."""
    problems = []
    for i in range(REPEAT + 1, len(export.outputs)):
        failed = export.error(i)
        batch = v.batches[i - 1]
        if failed is not None and batch is not None:
            problems.append(pinned(batch, _described(failed, v.graph), v.batches[0]))
    return problems


def _described(error: str, graph: Graph) -> str:
    """The error's first line, with the node it names described: its op, and the constant it reads when small."""
    match = FAILED_NODE.search(error)
    line = first_line(error)
    if match is None or match.group(1) not in graph:
        return line
    node = graph[match.group(1)]
    consts = [_const_value(graph, ref) for ref in node.inputs]
    held = [c for c in consts if c is not None and 0 < c.size <= 8]
    what = f"{node.op} {node.name!r}" + (f", whose constant holds {held[0].tolist()}" if held else "")
    return f"{line} (at {what})"


def _const_value(graph: Graph, ref: TensorRef) -> np.ndarray | None:
    node: Node | None = graph.get(graph.source(ref).node)
    if node is None or node.op != "Const" or "value" not in node.attrs:
        return None
    return to_array(node.attrs["value"].tensor)
