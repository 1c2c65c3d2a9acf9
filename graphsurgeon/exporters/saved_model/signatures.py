"""SignatureDefs: the keys clients use, chosen by the user or derived from node names."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphsurgeon import defaults
from graphsurgeon.errors import UsageError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.shapes import static_shape
from graphsurgeon.ir.signatures import has_sparse, tensor_nodes
from graphsurgeon.ir.types import output_dtype
from graphsurgeon.names import TensorRef
from graphsurgeon.tf.protos import pb, shape_proto

METHODS = {
    "predict": "tensorflow/serving/predict",
    "classify": "tensorflow/serving/classify",
    "regress": "tensorflow/serving/regress",
}


@dataclass(frozen=True)
class SignatureSpec:
    """A signature: input and output keys mapped to tensors, and its method."""

    key: str = defaults.DEFAULT_SIGNATURE
    inputs: Mapping[str, TensorRef] = field(default_factory=dict)
    outputs: Mapping[str, TensorRef] = field(default_factory=dict)
    method: str = defaults.METHOD
    source: Any = None  # a source SignatureDef kept as it is (it has sparse COO tensors)


def derived_keys(refs: Sequence[TensorRef], chosen: Mapping[TensorRef, str]) -> dict[str, TensorRef]:
    """Keys for tensors: the one chosen for it (a Plan's keys), else the last name-scope part if unique, else
    the full name."""
    last_parts = [r.node.rsplit("/", 1)[-1] for r in refs]
    keys: dict[str, TensorRef] = {}
    for ref, last in zip(refs, last_parts):
        key = chosen.get(ref)
        if key is None:
            key = last if last_parts.count(last) == 1 else ref.node.replace("/", "_")
            key += f"_{ref.port}" if ref.port else ""
        if key in keys:
            raise UsageError(f"two tensors would share signature key {key!r}; choose keys with --keys NAME=KEY")
        keys[key] = ref
    return keys


def default_signature(model: Model, chosen: Mapping[TensorRef, str] | None = None,
                      method: str = defaults.METHOD) -> SignatureSpec:
    """serving_default over the model's inputs and outputs; ``chosen`` keys by tensor (a Plan's, checked there)."""
    chosen = chosen or {}
    return SignatureSpec(defaults.DEFAULT_SIGNATURE, derived_keys(model.inputs, chosen),
                         derived_keys(model.outputs, chosen), method)


def with_default(model: Model, specs: Sequence[SignatureSpec]) -> list[SignatureSpec]:
    """``specs`` with serving_default: over the model's inputs and outputs when there are no specs, else a copy
    of the first signature, keys and all (what Serving calls when a request names none)."""
    specs = list(specs)
    if not specs and model.outputs:
        specs = [default_signature(model)]
    if specs and not any(s.key == defaults.DEFAULT_SIGNATURE for s in specs):
        first = specs[0]
        specs.insert(0, SignatureSpec(defaults.DEFAULT_SIGNATURE, first.inputs, first.outputs, first.method,
                                      first.source))
    return specs


def from_source(model: Model) -> list[SignatureSpec]:
    """The source's own signatures whose tensors all survived, with their keys and methods."""
    specs = []
    for key, sig in model.user_signatures.items():
        if has_sparse(sig):
            if tensor_nodes(sig) <= set(model.graph.names):
                specs.append(SignatureSpec(key, method=sig.method_name, source=sig))
            continue
        inputs = {k: TensorRef.parse(t.name) for k, t in sig.inputs.items() if t.name}
        outputs = {k: TensorRef.parse(t.name) for k, t in sig.outputs.items() if t.name}
        if all(r.node in model.graph for r in (*inputs.values(), *outputs.values())):
            method = next((m for m, full in METHODS.items() if full == sig.method_name), sig.method_name)
            specs.append(SignatureSpec(key, inputs, outputs, method))
    return specs


def signature_def(model: Model, spec: SignatureSpec) -> Any:
    if spec.source is not None:
        return spec.source  # sparse COO TensorInfos carry over as they are, tensors included
    sig = pb.meta_graph_pb2.SignatureDef(method_name=METHODS.get(spec.method, spec.method))
    for target, tensors in ((sig.inputs, spec.inputs), (sig.outputs, spec.outputs)):
        for key, ref in tensors.items():
            info = target[key]
            info.name = str(ref)
            info.dtype = dt.base(output_dtype(model.graph[ref.node], ref.port, model.graph))
            info.tensor_shape.CopyFrom(shape_proto(static_shape(model, ref, annotations=True)))
    return sig
