"""What will break in TensorFlow Serving, each with a one-line fix. Reads no weights."""
from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.custom_ops import describe, provider
from graphsurgeon.ir.ops import (
    FILE_READ_OPS, FILE_WRITE_OPS, PYTHON_OPS, READS, STATE_PUSH_OPS, TABLE_INIT_OPS, is_assign,
)
from graphsurgeon.ir.quantized import nonfinite_dequantizes
from graphsurgeon.ir.types import unregistered_ops_of, variable_behind
from graphsurgeon.surgery.initializers import initial_value_or_none
from graphsurgeon.surgery.switches import TrainingBehaviour
from graphsurgeon.surgery.training import is_training_only

SIDE_EFFECT_OPS = {
    **{op: "runs Python, which Serving does not have" for op in PYTHON_OPS},
    **{op: "writes files on the server at every request" for op in FILE_WRITE_OPS},
    **{op: "pushes onto a queue, stack or table at every request" for op in STATE_PUSH_OPS},
    **{op: "reads or lists files on the server by a path fixed at training time" for op in FILE_READ_OPS},
    "Print": "prints on the server at every request",
    "PrintV2": "prints on the server at every request",
}
KERAS_OPTIMIZER_SCOPE = "optimizer_weights/"  # where loaders.keras.h5 puts a .h5 file's optimizer state


@dataclass(frozen=True)
class Risk:
    kind: str
    node: str
    message: str
    fix: str


def find_risks(model: Model, kept: Collection[str]) -> list[Risk]:
    graph = model.graph
    risks = _side_effect_ops(graph, kept) + _training_reachable(model, kept) + _missing_assets(model, kept)
    risks += _unknown_ops(graph, kept) + _init_races(model, kept) + _ref_outputs(model)
    risks += _nonfinite_dequantizes(graph, kept)
    return risks


def training_behaviour_risks(found: Sequence[TrainingBehaviour]) -> list[Risk]:
    """A Plan's switches left at training behaviour and its random ops (surgery/switches.py), as risks."""
    return [Risk(f.kind, f.node, f.message, f.fix) for f in found]


def _side_effect_ops(graph: Graph, kept: Collection[str]) -> list[Risk]:
    return [Risk("side-effect op", n.name, f"{n.op} {n.name!r} {SIDE_EFFECT_OPS[n.op]}",
                 "cut below it (graphsurgeon cut --inputs ...) or replace it with TensorFlow ops")
            for n in graph if n.name in kept and n.op in SIDE_EFFECT_OPS]


def _training_reachable(model: Model, kept: Collection[str]) -> list[Risk]:
    # A Keras file's optimizer weights are stored beside the model, not in its graph: export never keeps them.
    keras_optimizer = KERAS_OPTIMIZER_SCOPE if model.source.format == "keras_h5" else None
    found = [n for n in model.graph if n.name in kept and is_training_only(n)
             and not (keras_optimizer and n.name.startswith(keras_optimizer))]
    if not found:
        return []
    return [Risk("training nodes", found[0].name, f"{len(found)} training-only node(s) are still reachable, "
                 f"e.g. {found[0].op} {found[0].name!r}",
                 "cut at the inference outputs (--outputs), binding flags like --set is_training=false")]


def _missing_assets(model: Model, kept: Collection[str]) -> list[Risk]:
    """Every referenced asset that is not on disk; whether the kept graph reads it decides how bad it is."""
    risks = []
    for a in model.assets:
        if os.path.isfile(a.path):
            continue
        read = "the kept graph reads it" if a.tensor.node in kept else "no kept node reads it"
        risks.append(Risk("missing asset", a.tensor.node,
                          f"asset {a.filename!r} (tensor {a.tensor}) is not at {a.path}; {read}",
                          "export with --asset-dir DIR pointing at where the file is now, or ship it with --asset"))
    return risks


def _unknown_ops(graph: Graph, kept: Collection[str]) -> list[Risk]:
    """Every op the kept graph (its functions included) needs that TensorFlow does not register."""
    unknown = unregistered_ops_of(graph.nodes_in(kept), graph.library)
    return [Risk("op missing from the C++ runtime", op, f"op {describe(op, where)} is not registered in this "
                 "TensorFlow", f"cut it out, or serve with a TensorFlow Serving built with "
                 f"{provider(op) or 'the library that defines it'}")
            for op, where in unknown.items()]


def _nonfinite_dequantizes(graph: Graph, kept: Collection[str]) -> list[Risk]:
    return [Risk("non-finite dequantize", bad.node, f"Dequantize {bad.describe()} gives NaN or Inf in TensorFlow",
                 "check that the outputs do not depend on it, or re-quantize that weight with a nonzero range")
            for bad in nonfinite_dequantizes(graph, kept)]


def _init_races(model: Model, kept: Collection[str]) -> list[Risk]:
    """A table initializer reading a variable with no control edge on that variable's assignment."""
    graph = model.graph
    risks = []
    for name in model.init_ops:
        node = graph.get(name)
        if node is None or name not in kept or node.op not in TABLE_INIT_OPS:
            continue
        for ref in node.inputs[1:]:
            variable = variable_behind(graph, ref)
            if variable and not _waits_for_assign(graph, node, variable):
                risks.append(Risk("init-order hazard", name,
                                  f"table initializer {name!r} reads variable {variable!r} with no control "
                                  "dependency on its assignment; a group(...) init op races "
                                  "(\"Attempting to use uninitialized value\", tensorflow/serving#1437)",
                                  "export with graphsurgeon, which runs path assignments before table initializers"))
    return risks


def _waits_for_assign(graph: Graph, node: Node, variable: str) -> bool:
    stack, seen = list(node.control_inputs), set()
    while stack:
        name = stack.pop()
        if name in seen or name not in graph:
            continue
        seen.add(name)
        current = graph[name]
        if is_assign(current.op) and current.inputs and current.inputs[0].node == variable:
            return True
        stack.extend(current.control_inputs)
    return False


def _ref_outputs(model: Model) -> list[Risk]:
    risks = []
    for key, sig in sorted(model.signatures.items()):
        for out_key, info in sorted(sig.outputs.items()):
            if dt.is_ref(info.dtype):
                risks.append(Risk("ref-typed output", info.name,
                                  f"signature {key!r} output {out_key!r} ({info.name}) is reference-typed "
                                  f"({dt.name_of(info.dtype)}_ref); TensorFlow 2 loaders refuse it",
                                  "return a value instead: freeze, or read it through Identity"))
    return risks


def tables(model: Model, kept: Collection[str]) -> list[dict]:
    """Each kept table initializer (an op, or a function call from the table_initializer collection),
    the table it fills and the asset file it reads."""
    graph = model.graph
    asset_by_node = {a.tensor.node: a for a in model.assets}
    candidates = [n for n in model.init_ops if n in kept] + [
        n.name for n in graph if n.name in kept and n.op in TABLE_INIT_OPS and n.name not in model.init_ops]
    out = []
    for name in candidates:
        node = graph[name]
        if is_assign(node.op):
            continue
        sources = [graph.source(ref, READS).node for ref in node.inputs]
        assets = [asset_by_node.get(s) or asset_by_node.get(_assigned_from(model, s)) for s in sources]
        asset = next((a for a in assets if a is not None), None)
        if asset is None and node.op not in TABLE_INIT_OPS:
            continue
        table = next((s for s, a in zip(sources, assets) if a is None), None)
        out.append({"table": table, "initializer": name, "op": node.op,
                    "asset": asset.filename if asset else None, "asset_path": asset.path if asset else None})
    return out


def _assigned_from(model: Model, variable: str) -> str:
    """The node a (path) variable is initialised from, so a table reading it is matched to its asset."""
    initial = initial_value_or_none(model, variable) if variable in model.graph else None
    return initial.node if initial is not None else ""
