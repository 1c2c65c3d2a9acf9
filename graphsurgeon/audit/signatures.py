"""A model's signatures as `saved_model_cli show --all` lists them: key, method, and each tensor's key,
dtype and shape. These are the names an export keeps and Serving clients send."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphsurgeon import defaults
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.model import Model


@dataclass(frozen=True)
class SignatureTensor:
    key: str
    dtype: str
    shape: list[int] | None  # None: unknown rank; -1: unknown dimension
    tensor: str  # the graph tensor, or "sparse: VALUES, INDICES, DENSE_SHAPE" for a COO TensorInfo


@dataclass(frozen=True)
class SignatureDesc:
    key: str
    method: str
    inputs: list[SignatureTensor]
    outputs: list[SignatureTensor]


def signatures_of(model: Model) -> list[SignatureDesc]:
    """The signatures clients call, serving_default first, then by key; tensors by key."""
    sigs = model.user_signatures
    keys = sorted(sigs, key=lambda k: (k != defaults.DEFAULT_SIGNATURE, k))
    return [SignatureDesc(key, sigs[key].method_name, _tensors(sigs[key].inputs), _tensors(sigs[key].outputs))
            for key in keys]


def _tensors(infos: Mapping[str, Any]) -> list[SignatureTensor]:
    return [_tensor(key, infos[key]) for key in sorted(infos)]


def _tensor(key: str, info: Any) -> SignatureTensor:
    shape = None if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim]
    if info.WhichOneof("encoding") == "coo_sparse":
        sparse = info.coo_sparse
        tensor = f"sparse: {sparse.values_tensor_name}, {sparse.indices_tensor_name}, {sparse.dense_shape_tensor_name}"
    elif info.WhichOneof("encoding") == "composite_tensor":
        tensor = "composite tensor"
    else:
        tensor = info.name
    return SignatureTensor(key, dt.name_of(info.dtype) if info.dtype else "invalid", shape, tensor)
