"""Facts about SignatureDef protos that several stages need: which tensors a signature names."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from graphsurgeon.names import TensorRef

# The SignatureDef a TF2 SavedModel's loader runs once after restoring: not a signature clients call.
INIT_SIGNATURE = "__saved_model_init_op"
# TensorFlow reserves keys with this prefix for its own machinery (the init op above, and others to come).
HIDDEN_SIGNATURE_PREFIX = "__"

Sig = TypeVar("Sig")


def is_user_signature(key: str) -> bool:
    """Whether ``key`` names a signature clients call, not one of TensorFlow's hidden ones."""
    return not key.startswith(HIDDEN_SIGNATURE_PREFIX)


def user_signatures(signatures: Mapping[str, Sig]) -> dict[str, Sig]:
    """The signatures clients call, by key in sorted order."""
    return {key: signatures[key] for key in sorted(signatures) if is_user_signature(key)}


def tensor_names(sig: Any, outputs_only: bool = False) -> list[str]:
    """Every tensor a signature names (or only its outputs), the three parts of a sparse (COO) TensorInfo included."""
    names = []
    infos = list(sig.outputs.values()) if outputs_only else [*sig.inputs.values(), *sig.outputs.values()]
    for info in infos:
        if info.WhichOneof("encoding") == "coo_sparse":
            sparse = info.coo_sparse
            names += [sparse.values_tensor_name, sparse.indices_tensor_name, sparse.dense_shape_tensor_name]
        elif info.name:
            names.append(info.name)
    return names


def tensor_nodes(sig: Any) -> set[str]:
    return {TensorRef.parse(name).node for name in tensor_names(sig)}


def has_sparse(sig: Any) -> bool:
    return any(t.WhichOneof("encoding") != "name" for t in (*sig.inputs.values(), *sig.outputs.values()))
