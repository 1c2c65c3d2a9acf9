"""Training behaviour a cut keeps switched on: switches whose default trains, and stateful random ops.

A graph saved for training often keeps its switches: `is_training` a
PlaceholderWithDefault defaulting to True, a dropout keep_prob defaulting to
0.5, a Keras learning phase at 1. A cut keeps the default and Serving never
feeds it, so every request runs dropout and batch statistics, and the outputs
are not the model's (by up to 1.0 on a frozen 3D U-Net). A stateful random op
(a sampler, a dropout mask) answers the same request differently every time.

find_training_behaviour() names each with its default and the --set that turns
it off; plan() keeps them on the Plan, apply() warns, audit lists them as
risks. A model that samples on purpose says so (Recipe.stochastic,
--stochastic), and nothing is said.

A switch (a PlaceholderWithDefault with a constant default) counts when:
  - it is a Keras learning phase whose default is on;
  - it decides a cond, and the branch its default takes runs training
    behaviour (a stateful random op, a variable update, batch norm with
    is_training), or, that branch telling nothing, its name says training;
  - it is a dropout keep probability below 1 or a rate above 0: within a few
    ops it meets a random op's draws.
A random op counts when it still runs, and its draws still decide something,
both with every switch at its default and with the switches found turned off:
a dropout mask of rate 0 (U >= 0, floor(1 + U)) draws for nothing.
"""
from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.ops import (
    FUNCTIONAL_COND_OPS,
    FUSED_BATCH_NORM_OPS,
    PASS_THROUGH_OPS,
    STATEFUL_RANDOM_OPS,
    SWITCH_OPS,
    updates_state,
)
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery.fold import fold_constant_switches

log = logging.getLogger(__name__)

LEARNING_PHASE = re.compile(r"keras_learning_phase(_\d+)?")
NAMED_FOR_TRAINING = re.compile(r"train", re.IGNORECASE)
MEETING_DEPTH = 3  # ops between a dropout rate (or a random op) and the op where they meet
STOCHASTIC = "--stochastic if the model samples on purpose"


@dataclass(frozen=True)
class TrainingBehaviour:
    """One switch left at training behaviour, or one random op; ``fix`` says how to turn it off."""

    kind: str  # "training switch" or "random op"
    node: str
    message: str
    fix: str

    @property
    def line(self) -> str:
        return f"{self.message}; {self.fix}"


@dataclass(frozen=True)
class _Switch:
    name: str
    default: object  # a scalar, as --set would give it
    off: object
    why: str


def find_training_behaviour(graph: Graph, kept: Collection[str],
                            inputs: Collection[str] = ()) -> tuple[TrainingBehaviour, ...]:
    """The switches ``kept`` leaves at training behaviour and the random ops it keeps drawing."""
    if not any(n.name in kept for n in graph.of_ops(STATEFUL_RANDOM_OPS | {"PlaceholderWithDefault"})):
        return ()
    sub = graph.with_nodes(graph.nodes_in(set(kept) | set(inputs)))  # a cut input's node too: conds read it
    randoms = [n.name for n in sub.of_ops(STATEFUL_RANDOM_OPS) if n.name in kept]
    defaults = {n.name: value for n in sub.of_ops({"PlaceholderWithDefault"})
                if n.name in kept and n.name not in inputs and n.inputs
                and (value := _scalar(sub, n.inputs[0])) is not None}
    if not randoms and not defaults:
        return ()
    switches = [s for s in (_switch(sub, name, value, randoms) for name, value in defaults.items()) if s]
    as_saved = _bound(sub, defaults)
    turned_off = _bound(sub, {**defaults, **{s.name: s.off for s in switches}})
    drawing = [r for r in randoms if _draws(as_saved, r) and _draws(turned_off, r)]
    return tuple([_switch_finding(graph, s) for s in switches] + [_random_finding(graph[r]) for r in drawing])


def warn(found: tuple[TrainingBehaviour, ...]) -> None:
    """Log each finding as a warning (the CLI prints it)."""
    for finding in found:
        log.warning("%s", finding.line)


def _switch(graph: Graph, name: str, default: np.ndarray, randoms: list[str]) -> _Switch | None:
    """The switch ``name`` when its ``default`` turns on training behaviour, with the value that turns it off."""
    value = np.asarray(default)
    if LEARNING_PHASE.fullmatch(name.rsplit("/", 1)[-1]):
        return _Switch(name, default, value.dtype.type(0), "it is a Keras learning phase") if value else None
    if value.dtype == np.bool_:
        return _cond_switch(graph, name, bool(value))
    meeting = _meeting(graph, name, randoms)
    if meeting is None or value.dtype.kind != "f":
        return None
    keep = "keep" in name.lower() or graph.op_of(meeting) in ("Add", "AddV2")  # floor(keep_prob + U)
    if keep and value < 1:
        return _Switch(name, default, value.dtype.type(1), f"it is the keep probability of the dropout at {meeting!r}")
    if not keep and value > 0:
        return _Switch(name, default, value.dtype.type(0), f"it is the rate of the dropout at {meeting!r}")
    return None


def _cond_switch(graph: Graph, name: str, default: bool) -> _Switch | None:
    """A bool switch whose default takes a cond branch that trains (or, failing that, that is named so)."""
    switches = [n for n in graph.of_ops(SWITCH_OPS) if graph.source(n.inputs[1]).node == name]
    ifs = [n for n in graph.of_ops(FUNCTIONAL_COND_OPS) if graph.source(n.inputs[0]).node == name]
    if not switches and not ifs:
        return None
    taken = set(_bound(graph, {name: default}).names) - set(_bound(graph, {name: not default}).names)
    trains = [n for n in graph.nodes_in(taken) if _trains(n)] + [n for n in ifs if _branch_trains(graph, n, default)]
    if trains:
        return _Switch(name, default, not default, f"the cond it decides runs {trains[0].op} {trains[0].name!r}")
    if default and NAMED_FOR_TRAINING.search(name.rsplit("/", 1)[-1]):
        return _Switch(name, default, False, "it decides a cond, and its name says training")
    return None


def _trains(node: Node) -> bool:
    """Training behaviour: fresh random draws, a variable update, batch norm on batch statistics."""
    is_training = node.attrs.get("is_training")
    return node.op in STATEFUL_RANDOM_OPS or updates_state(node.op) or (
        node.op in FUSED_BATCH_NORM_OPS and (is_training is None or is_training.b))


def _branch_trains(graph: Graph, cond: Node, default: bool) -> bool:
    branch = cond.attrs.get("then_branch" if default else "else_branch")
    functions = {f.signature.name: f for f in getattr(graph.library, "function", ())}
    function = functions.get(branch.func.name) if branch is not None else None
    return function is not None and any(
        n.op in STATEFUL_RANDOM_OPS or updates_state(n.op) for n in function.node_def)


def _meeting(graph: Graph, name: str, randoms: list[str]) -> str | None:
    """The first op (in graph order) a few ops below both ``name`` and some random op: where dropout meets."""
    below = _near_below(graph, [name])
    met = below & _near_below(graph, randoms)
    return next((n for n in graph.names if n in met), None)


def _near_below(graph: Graph, starts: list[str]) -> set[str]:
    """Nodes at most MEETING_DEPTH data edges below ``starts``."""
    seen: set[str] = set()
    frontier = list(starts)
    for _ in range(MEETING_DEPTH):
        frontier = [c for name in frontier for c in graph.consumers.get(name, ())
                    if c not in seen and any(r.node == name for r in graph[c].inputs)]
        seen.update(frontier)
    return seen


def _bound(graph: Graph, values: Mapping[str, object]) -> Graph:
    """``graph`` with each named switch a constant of its value, and the conds they decide folded."""
    nodes = [const_node(n.name, np.asarray(values[n.name]), n.attrs["dtype"].type) if n.name in values else n
             for n in graph]
    return fold_constant_switches(graph.with_nodes(nodes))


def _draws(graph: Graph, name: str) -> bool:
    """Whether random op ``name`` runs and its draws decide something (not a dropout mask of rate 0)."""
    if name not in graph:
        return False
    if graph.op_of(name) != "RandomUniform":
        return True
    stack = [(TensorRef(name), 0.0, 1.0)]  # the draws lie in [low, high)
    while stack:
        ref, low, high = stack.pop()
        consumers = graph.data_consumers.get(ref, ())
        if not consumers:
            return True  # the draws are an output
        for consumer, slot in consumers:
            node = graph[consumer]
            out = TensorRef(consumer)
            other = [r for i, r in enumerate(node.inputs) if i != slot]
            constant = _scalar(graph, other[0]) if len(other) == 1 else None
            if node.op in PASS_THROUGH_OPS:
                stack.append((out, low, high))
            elif node.op == "Floor" and math.floor(low) == math.ceil(high) - 1:
                continue  # floor(keep_prob + U) with keep_prob 1: always 1
            elif node.op == "GreaterEqual" and slot == 0 and constant is not None and low >= float(constant):
                continue  # U >= rate with rate 0: always true
            elif node.op in ("Add", "AddV2") and constant is not None:
                stack.append((out, low + float(constant), high + float(constant)))
            elif node.op == "Mul" and constant is not None and float(constant) >= 0:
                stack.append((out, low * float(constant), high * float(constant)))
            else:
                return True
    return False


ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "Add": np.add, "AddV2": np.add, "Sub": np.subtract, "Mul": np.multiply, "RealDiv": np.divide}


def _scalar(graph: Graph, ref: TensorRef, depth: int = 4) -> np.ndarray | None:
    """The value of a scalar constant expression (Consts, Identity, + - * /, a Select on a constant) behind
    ``ref``, else None."""
    node = graph.get(ref.node)
    if node is None or depth < 0:
        return None
    if node.op == "Const" and node.weight is None:
        value = to_array(node.attrs["value"].tensor)
        return value.reshape(()) if value.size == 1 and value.dtype != object else None
    if node.op in PASS_THROUGH_OPS:
        return _scalar(graph, node.inputs[0], depth - 1)
    if node.op in ("Select", "SelectV2") and len(node.inputs) == 3:
        condition = _scalar(graph, node.inputs[0], depth - 1)  # tf.where(is_training, 0.5, 1.0), bound
        return None if condition is None else _scalar(graph, node.inputs[1 if bool(condition) else 2], depth - 1)
    if node.op in ARITHMETIC and len(node.inputs) == 2:
        left, right = (_scalar(graph, r, depth - 1) for r in node.inputs)
        if left is not None and right is not None:
            with np.errstate(all="ignore"):
                return np.asarray(ARITHMETIC[node.op](left, right))
    return None


def _text(value: object) -> str:
    """A value as --set takes it: true/false, 1.0, 0."""
    value = np.asarray(value)
    return str(bool(value)).lower() if value.dtype == np.bool_ else repr(value.item())


def _switch_finding(graph: Graph, switch: _Switch) -> TrainingBehaviour:
    node = graph[switch.name]
    return TrainingBehaviour(
        "training switch", switch.name,
        f"{node.op} {switch.name!r} defaults to {_text(switch.default)}, which keeps training behaviour on "
        f"({switch.why}), and no Serving request can change it",
        f"turn it off with --set {switch.name}={_text(switch.off)} ({STOCHASTIC})")


def _random_finding(node: Node) -> TrainingBehaviour:
    return TrainingBehaviour(
        "random op", node.name,
        f"{node.op} {node.name!r} draws new random numbers at every request, so one input gets different outputs",
        f"cut below it, or --set the switch that turns it on ({STOCHASTIC})")
