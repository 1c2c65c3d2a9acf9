"""Variables the checkpoint has no value for, sorted by where their value comes from at init.

- an asset tensor: the variable keeps being assigned by the init op (surgery.assets);
- a restore op reading another checkpoint (a TF-Hub module's checkpoint_initializer):
  its value comes from that file, found at load time (``--weights`` says where it is now);
- a constant expression (no random or stateful op): that value, with a notice;
- anything else (random initializers): only with ``--init-from-initializers``.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

from graphsurgeon.errors import FreezeError, close_matches
from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import VARIABLE_OPS
from graphsurgeon.ir.variable_defs import restore_on_init
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery import initializers
from graphsurgeon.surgery.reach import reach
from graphsurgeon.tf import runtime

log = logging.getLogger(__name__)

NOT_CONSTANT = ("Placeholder", "PlaceholderWithDefault", "Iterator", "IteratorGetNext", "QueueDequeue")
RANDOM_MARKS = ("Random", "Multinomial", "Shuffle", "Candidate", "TruncatedNormal")


def missing_value_problems(model: Model, missing: Sequence[str], init_from_initializers: bool) -> list[FreezeError]:
    """Why the ``missing`` variables (no checkpoint value) cannot be frozen, if they cannot: what a plan
    refuses before any weight is read, each naming the flag or file that supplies the value."""
    problems = []
    for name in missing:
        initial = initializers.initial_value_or_none(model, name)
        if init_from_initializers:
            if initial is None:
                problems.append(initializers.no_initializer_error(name))
            elif initializers.reads_variable(model.graph, initial) is not None:
                problems.append(initializers.stateful_initializer_error(name, initializers.reads_variable(
                    model.graph, initial) or ""))
            continue
        restored = restore_on_init(model.graph, name, model)
        if restored is not None:
            problems.append(_restore_error(name, *restored))
        elif initial is None or not is_constant_expression(model.graph, initial):
            problems.append(missing_value_error(model, name))
    if len(problems) > 1:  # one line, as every refusal is: the first, and how many more
        return [FreezeError(f"{problems[0]} ({len(problems) - 1} more variable(s) have no value either)")]
    return problems


def values_for_missing(model: Model, missing: Sequence[str], init_from_initializers: bool) -> WeightStore:
    """Values for ``missing`` variables that missing_value_problems() allowed: their initializers' values."""
    if not init_from_initializers:
        log.warning("%d variable(s) without a checkpoint value take their constant initial values (%s)",
                    len(missing), ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else ""))
    return initializers.evaluate(model, list(missing))


def is_constant_initializer(model: Model, variable: str) -> bool:
    """True when the variable's initial value is computed from constants only: no random, stateful,
    fed or variable-reading op, so it is the same on every run."""
    ref = initializers.initial_value_or_none(model, variable)
    return ref is not None and is_constant_expression(model.graph, ref)


def is_constant_expression(graph: Graph, ref: TensorRef) -> bool:
    for name in reach(graph, [ref]).kept:
        node = graph[name]
        op_def = runtime.op_def(node.op)
        if (op_def is None or op_def.is_stateful or node.op in VARIABLE_OPS or node.op.startswith(NOT_CONSTANT)
                or any(mark in node.op for mark in RANDOM_MARKS)):
            return False
    return True


def _restore_error(variable: str, prefix: str, key: str) -> FreezeError:
    return FreezeError(
        f"variable {variable!r} is restored at init from checkpoint {prefix!r} (key {key!r}), which is not "
        "there; pass --weights PREFIX_OR_DIR with where that checkpoint is now, or --init-from-initializers "
        "for the variable's original initializer"
    )


def missing_value_error(model: Model, name: str) -> FreezeError:
    if model.source.format == "saved_model" and not model.source.checkpoint:
        return FreezeError(
            f"variable {name!r} has no value: SavedModel {model.source.path} has no variables/ directory; copy "
            "variables/ from where the SavedModel was exported, or pass --init-from-initializers to use the "
            "variable's own initializer"
        )
    key = model.checkpoint_key(name)
    where = f"checkpoint {model.source.checkpoint}" if model.source.checkpoint else "this model (it has no checkpoint)"
    hint = close_matches(key, model.weights)
    similar = f" (similar keys: {', '.join(hint)})" if hint else ""
    return FreezeError(
        f"variable {name!r} has no value in {where}{similar} and its initializer is random or reads state; "
        "load the checkpoint prefix with the .meta (or --weights PREFIX_OR_DIR), or pass "
        "--init-from-initializers to use the variable's own initializer"
    )
