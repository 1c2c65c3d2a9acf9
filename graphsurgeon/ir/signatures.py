"""Facts about SignatureDef protos that several stages need: which tensors a signature names."""
from __future__ import annotations

from graphsurgeon.names import TensorRef


def tensor_names(sig, outputs_only: bool = False) -> list[str]:
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


def tensor_nodes(sig) -> set[str]:
    return {TensorRef.parse(name).node for name in tensor_names(sig)}


def has_sparse(sig) -> bool:
    return any(t.WhichOneof("encoding") != "name" for t in (*sig.inputs.values(), *sig.outputs.values()))
