"""Variables the checkpoint has no value for, sorted by where their value comes from at init.

- an asset tensor: the variable keeps being assigned by the init op (surgery.assets);
- a restore op reading another checkpoint (a TF-Hub module's checkpoint_initializer):
  its value comes from that file, found at load time (``--weights`` says where it is now);
- saved values that are not there (a SavedModel without variables/, a checkpoint that lacks a
  variable its graph's saver restores): refused, naming the files, as TensorFlow's restore would;
- a constant expression (no random or stateful op), when nothing was ever saved for it (a MetaGraph
  exported without a checkpoint, or a variable the graph's saver leaves out, which TensorFlow
  initializes too): that value, with a notice;
- anything else (random initializers): only with ``--init-from-initializers``.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

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
    refuses before any weight is read, one line naming the files or the flag that supplies the values."""
    if init_from_initializers:
        return _initializer_problems(model, missing)
    problems = []
    restored = {name: restore_on_init(model.graph, name, model) for name in missing}
    problems += [_restore_error(name, *where) for name, where in restored.items() if where is not None]
    rest = [name for name in missing if restored[name] is None]
    saved = [name for name in rest if _should_be_saved(model, name)]
    if saved:
        problems.append(_unsaved_error(model, saved))
    unsettled = [name for name in rest if name not in saved and not is_constant_initializer(model, name)]
    problems += [missing_value_error(model, name) for name in unsettled]
    if len(problems) > 1:  # one line, as every refusal is: the first, and how many more
        return [FreezeError(f"{problems[0]} ({len(problems) - 1} more problem(s) of the same kind)")]
    return problems


def _initializer_problems(model: Model, missing: Sequence[str]) -> list[FreezeError]:
    """--init-from-initializers runs each variable's initializer: it must have one, reading no other variable."""
    for name in missing:
        initial = initializers.initial_value_or_none(model, name)
        if initial is None:
            return [initializers.no_initializer_error(name)]
        read = initializers.reads_variable(model.graph, initial)
        if read is not None:
            return [initializers.stateful_initializer_error(name, read)]
    return []


def values_for_missing(model: Model, missing: Sequence[str], init_from_initializers: bool) -> WeightStore:
    """Values for ``missing`` variables that missing_value_problems() allowed: their initializers' values."""
    if not init_from_initializers:
        log.warning("%d variable(s) without a checkpoint value take their constant initial values (%s)",
                    len(missing), _some(missing))
    return initializers.evaluate(model, list(missing))


def _should_be_saved(model: Model, variable: str) -> bool:
    """Whether the model's saved values ought to hold ``variable``: it has a checkpoint (a SavedModel always
    does) and the graph's saver restores that variable, or the graph has no saver to say otherwise."""
    if model.source.checkpoint is None and model.source.format != "saved_model":
        return False  # a MetaGraph or GraphDef exported without any checkpoint: initial values are all there is
    saver = model.saver_def.restore_op_name.split(":")[0] if model.saver_def is not None else ""
    return variable in model.variable_keys or saver not in model.graph


def _unsaved_error(model: Model, names: Sequence[str]) -> FreezeError:
    flag = ("or pass --init-from-initializers to use the variables' initial values, which are not the trained "
            "ones")
    if model.source.checkpoint is None:
        return FreezeError(
            f"SavedModel {model.source.path} has no variables/ directory (variables.index and variables.data-*), so "
            f"{len(names)} variable(s) the outputs need have no saved values ({_some(names)}); copy variables/ "
            f"from where the SavedModel was exported, {flag}")
    keys = [model.checkpoint_key(n) for n in names]
    hint = close_matches(keys[0], model.weights)
    similar = f" (similar keys: {', '.join(hint)})" if hint else ""
    return FreezeError(
        f"checkpoint {_index_file(model.source.checkpoint)} has no value for {len(names)} variable(s) the "
        f"outputs need and the graph's saver restores ({_some(keys)}){similar}; load the checkpoint saved with "
        f"this graph, {flag}")


def _index_file(pattern: str) -> str:
    """The file that lists a checkpoint's keys: PREFIX.index (V2), or the V1 pattern itself."""
    return f"{pattern}.index" if Path(pattern + ".index").is_file() else pattern


def _some(names: Sequence[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


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
