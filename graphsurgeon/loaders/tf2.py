"""TF2 SavedModels: a signature's function call graph flattened into one graph graphsurgeon can cut.

TF2 hides the computation inside functions (StatefulPartitionedCall) that
capture resource variables. TensorFlow's own convert_variables_to_constants_v2
inlines the call graph and turns captured variables into constants; a
signature that updates variables is refused, since a frozen graph cannot.
"""
from __future__ import annotations

from pathlib import Path

from graphsurgeon import _tf
from graphsurgeon import dtypes as dt
from graphsurgeon.errors import FreezeError, LoadError
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.model import Asset, Model, Source
from graphsurgeon.ir.ops import updates_state
from graphsurgeon.ir.proto import graph_from_proto
from graphsurgeon.names import TensorRef
from graphsurgeon.protos import pb

CALL_OPS = frozenset({"StatefulPartitionedCall", "PartitionedCall"})


def calls_functions(model: Model) -> bool:
    """Whether some signature's outputs come out of a function call (a TF2 SavedModel)."""
    for sig in model.user_signatures.values():
        for info in sig.outputs.values():
            if info.name and model.graph[model.graph.source(TensorRef.parse(info.name)).node].op in CALL_OPS:
                return True
    return False


def traced_signature(model: Model, directory: Path, tags: list[str], key: str | None) -> Model:
    keys = list(model.user_signatures)
    if key is not None and key not in keys:
        raise LoadError(f"{directory} has no signature {key!r}; choose --signature from {keys}")
    key = key or ("serving_default" if "serving_default" in keys else None)
    if key is None:
        raise LoadError(f"{directory} is a TF2 SavedModel without serving_default; choose one with --signature "
                        f"from {keys}")
    try:
        graph_def, inputs, outputs = _tf.trace_saved_model(str(directory), tags, key, updates_state)
    except _tf.Unflattenable as refusal:
        raise _refusal(refusal, key, directory, keys) from refusal
    graph = graph_from_proto(graph_def, str(directory))
    signature = pb.meta_graph_pb2.SignatureDef(method_name=model.signatures[key].method_name)
    for input_key, name in inputs:
        signature.inputs[input_key].name = f"{name}:0"
    for output_key, tensor in outputs:
        signature.outputs[output_key].name = tensor
    graph, assets = _shipped_assets(graph, model)
    source = Source(str(directory), "saved_model", details={"traced_signature": key})
    return Model(graph=graph, source=source, signatures={key: signature}, assets=assets, extra_dir=model.extra_dir,
                 inputs=tuple(TensorRef(name) for _, name in inputs),
                 outputs=tuple(TensorRef.parse(tensor) for _, tensor in outputs))


def _refusal(refusal, key: str, directory: Path, keys: list[str]) -> Exception:
    names = ", ".join(refusal.names[:3]) + (", ..." if len(refusal.names) > 3 else "")
    if refusal.reason == "state updates":
        return FreezeError(
            f"signature {key!r} of {directory} updates variables ({names}); a frozen graph has no state to "
            f"update, so it cannot be exported this way. Choose a read-only signature with --signature "
            f"(this model has {keys})"
        )
    return LoadError(
        f"signature {key!r} of {directory} takes sparse or ragged inputs ({names}); flattening would turn each "
        "into anonymous dense parts, so graphsurgeon refuses it. Export the model's TF1 graph, or one with dense inputs"
    )


def _shipped_assets(graph, model: Model):
    """The source's asset files, each behind a new string constant for the loader to feed."""
    nodes, assets = list(graph), []
    for i, asset in enumerate(sorted({(a.filename, a.path) for a in model.assets})):
        node = const_node(f"graphsurgeon_assets/{i}", asset[0].encode(), dt.enum_of("string"))
        nodes.append(node)
        assets.append(Asset(TensorRef(node.name), asset[0], asset[1]))
    return graph.with_nodes(nodes), tuple(assets)
