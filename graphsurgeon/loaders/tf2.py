"""TF2 SavedModels: the signatures' function call graphs flattened into one graph graphsurgeon can cut.

TF2 hides the computation inside functions (StatefulPartitionedCall) that
capture resource variables. TensorFlow's own convert_variables_to_constants_v2
inlines the call graph and turns captured variables into constants. The
signatures are traced together, so a variable several of them read becomes one
constant (stored once in variables/). A signature that updates variables is
left out with its reason (an error when asked for by name): a frozen graph
has no state to update. So is one that writes or reads files, or pushes onto
a queue or stack (ir/ops.py side_effect): a Serving client must not make the
server do that. Captured hash tables are rebuilt (tf2_tables.py); a
signature that reads any other captured resource is left out the same way,
as the placeholder freezing leaves in its place has no value in Serving.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from graphsurgeon.errors import CorruptCheckpointError, FreezeError, LoadError, close_matches
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.model import Asset, Model, Source
from graphsurgeon.ir.ops import side_effect, updates_state
from graphsurgeon.ir.proto import graph_from_proto
from graphsurgeon.loaders.tf2_tables import rebuilt_tables
from graphsurgeon.names import TensorRef
from graphsurgeon.tf import runtime
from graphsurgeon.tf.protos import pb
from graphsurgeon.tf.tf2_trace import CapturedResource, SavedModelLoadFailed, TracedSignatures, Unflattenable

log = logging.getLogger(__name__)

CALL_OPS = frozenset({"StatefulPartitionedCall", "PartitionedCall"})


def calls_functions(model: Model) -> bool:
    """Whether some signature's outputs come out of a function call (a TF2 SavedModel)."""
    for key, sig in model.user_signatures.items():
        for info in sig.outputs.values():
            if not info.name:
                continue
            try:
                source = model.graph.source(TensorRef.parse(info.name))
            except KeyError as err:  # the output, or a node it passes through, is not in the graph
                raise LoadError(f"{model.source.path}: signature {key!r} output {info.name} reads {err.args[0]!r}, "
                                "which the graph lacks; the SavedModel is damaged: re-export it") from err
            if model.graph.op_of(source.node) in CALL_OPS:
                return True
    return False


def traced_signatures(model: Model, directory: Path, tags: list[str], wanted: Sequence[str] | None) -> Model:
    """The serving signatures (``wanted``, or every one but __saved_model_init_op) flattened into one graph.

    Signatures that cannot be frozen (state updates, sparse inputs) are left
    out and named in ``source.details["skipped_signatures"]``, unless the user
    asked for them by name: then they are an error.
    """
    keys = sorted(model.user_signatures)
    unknown = [k for k in wanted or () if k not in keys]
    if unknown:
        near = close_matches(unknown[0], keys)
        raise LoadError(f"{directory} has no signature {unknown[0]!r}"
                        + (f" (did you mean {near[0]!r}?)" if near else "") + f"; choose --signature from {keys}")
    chosen = list(dict.fromkeys(wanted)) if wanted else keys
    if not chosen:
        raise LoadError(f"{directory} is a TF2 SavedModel with no serving signatures; re-export it with signatures")
    flattened, init_ops, traced, refused = _flattened(directory, tags, chosen, model)
    if refused and (wanted or not traced):
        key = next(k for k in chosen if k in refused)
        raise _refusal(refused[key], key, directory, keys)
    for key, refusal in refused.items():
        log.warning("signature %r of %s is left out: %s", key, directory, _reason(refusal))
    assert flattened is not None  # some signature was traced, or the refusal was raised
    graph, assets = flattened
    signatures, inputs, outputs = {}, {}, {}
    for key, (input_pairs, output_pairs) in traced.items():
        signature = pb.meta_graph_pb2.SignatureDef(method_name=model.signatures[key].method_name)
        for input_key, name in input_pairs:
            signature.inputs[input_key].name = f"{name}:0"
            inputs[name] = TensorRef(name)
        for output_key, tensor in output_pairs:
            signature.outputs[output_key].name = tensor
            outputs[tensor] = TensorRef.parse(tensor)
        signatures[key] = signature
    details = {"traced_signatures": ", ".join(traced)}
    if refused:
        details["skipped_signatures"] = "\n".join(f"{k}: {_reason(r)}" for k, r in sorted(refused.items()))
    source = Source(str(directory), "saved_model", details=details)
    return Model(graph=graph, source=source, signatures=signatures, assets=assets, extra_dir=model.extra_dir,
                 inputs=tuple(inputs.values()), outputs=tuple(outputs.values()), init_ops=init_ops)


def _flattened(directory: Path, tags: list[str], keys: list[str], model: Model,
               ) -> tuple[tuple[Graph, tuple[Asset, ...]] | None, tuple[str, ...], TracedSignatures,
                          dict[str, Unflattenable]]:
    """((graph, its assets), table init ops, kept signatures, refused ones with their reasons).

    Captured hash tables are rebuilt (tf2_tables.py). A signature whose outputs
    still read a captured resource is refused and the rest traced again without
    it: the placeholder left in its place has no value in Serving, so the
    export would load and then fail on every request.
    """
    refused: dict[str, Unflattenable] = {}
    while True:
        graph_def, traced, more, captured = _traced(directory, tags, keys)
        refused.update(more)
        if graph_def is None:
            return None, (), {}, refused
        graph, assets = _shipped_assets(graph_from_proto(graph_def, str(directory)), model)
        graph, init_ops = rebuilt_tables(graph, captured, {a.filename: a.tensor for a in assets})
        reading = _reading_captures(graph, traced, captured)
        if not reading:
            return (graph, assets), init_ops, traced, refused
        refused.update(reading)
        keys = [k for k in keys if k not in refused]


def _traced(directory: Path, tags: list[str], keys: list[str]) -> tuple:
    """runtime.trace_saved_model, with TensorFlow's refusal of a damaged SavedModel as one LoadError."""
    try:
        return runtime.trace_saved_model(str(directory), tags, keys, updates_state, side_effect)
    except SavedModelLoadFailed as err:
        errors = runtime.tf().errors
        if isinstance(err.cause, (errors.DataLossError, errors.OutOfRangeError)):  # a checksum, a file cut short
            raise CorruptCheckpointError(f"{directory}: TensorFlow could not restore its variables ({err}); "
                                         "variables/ is damaged: copy the SavedModel again from where it was "
                                         "exported") from err
        raise LoadError(f"{directory}: TensorFlow could not load the SavedModel ({err}); re-export it, or copy it "
                        "again if it was damaged on the way") from err


def _reading_captures(graph: Graph, traced: TracedSignatures, captured: dict[str, CapturedResource],
                      ) -> dict[str, Unflattenable]:
    """Signatures whose outputs depend on a captured resource left as an unfed placeholder."""
    left = {node.name for node in graph.of_ops({"Placeholder"}) if node.name in captured}
    reading = {}
    for key, (_, outputs) in traced.items():
        seen: set[str] = set()
        stack = [TensorRef.parse(tensor).node for _, tensor in outputs]
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(graph[name].input_nodes())
        names = [f"placeholder {name!r}: {captured[name].description}" for name in sorted(seen & left)]
        if names:
            reading[key] = Unflattenable("captured resources", names)
    return reading


def _reason(refusal: Unflattenable) -> str:
    names = ", ".join(refusal.names[:3]) + (", ..." if len(refusal.names) > 3 else "")
    if refusal.reason == "captured resources":
        return (f"reads a captured resource that freezing cannot turn into constants ({'; '.join(refusal.names[:3])}), "
                "which nothing would feed in Serving")
    if refusal.reason == "state updates":
        return f"updates variables ({names}), which a frozen graph cannot"
    if refusal.reason == "side effects":
        return f"{'; '.join(refusal.names)}, which a Serving client must never be able to make the server do"
    return f"takes sparse or ragged inputs ({names}), which flattening would split into anonymous dense parts"


def _refusal(refusal: Unflattenable, key: str, directory: Path, keys: list[str]) -> Exception:
    if refusal.reason == "state updates":
        return FreezeError(
            f"signature {key!r} of {directory} {_reason(refusal)}, so it cannot be exported this way. Choose "
            f"read-only signatures with --signature (this model has {keys})"
        )
    if refusal.reason == "side effects":
        return FreezeError(
            f"signature {key!r} of {directory} {_reason(refusal)}, so graphsurgeon refuses to serve it. Choose "
            f"signatures without side effects with --signature (this model has {keys})"
        )
    if refusal.reason == "captured resources":
        return FreezeError(
            f"signature {key!r} of {directory} {_reason(refusal)}, so it cannot be exported this way. Export the "
            "model from its source file (.keras) instead, where graphsurgeon rebuilds tables from their "
            "vocabulary, or serve this SavedModel as it is"
        )
    return LoadError(
        f"signature {key!r} of {directory} {_reason(refusal)}, so graphsurgeon refuses it. Export the model's TF1 "
        "graph, or one with dense inputs"
    )


def _shipped_assets(graph: Graph, model: Model) -> tuple[Graph, tuple[Asset, ...]]:
    """The source's asset files, each behind a new string constant for the loader to feed."""
    nodes, assets = list(graph), []
    for i, asset in enumerate(sorted({(a.filename, a.path) for a in model.assets})):
        node = const_node(f"graphsurgeon_assets/{i}", asset[0].encode(), dt.enum_of("string"))
        nodes.append(node)
        assets.append(Asset(TensorRef(node.name), asset[0], asset[1]))
    return graph.with_nodes(nodes), tuple(assets)
