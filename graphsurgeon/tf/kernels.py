"""Which dtypes this TensorFlow has CPU kernels for, asked of its kernel registry (not guessed: TF 2.21 has
an Assign kernel for quint16 but none for qint16)."""
from __future__ import annotations

import functools

from graphsurgeon.tf.runtime import tf


@functools.cache
def cpu_kernel_dtypes(op: str) -> frozenset[int]:
    """DataType enums some CPU kernel of ``op`` accepts for a type constraint."""
    tf()
    from tensorflow.python.framework import kernels

    found: set[int] = set()
    for kernel in kernels.get_registered_kernels_for_op(op).kernel:
        if kernel.device_type == "CPU":
            for constraint in kernel.constraint:
                found.update(constraint.allowed_values.list.type)
    return frozenset(found)
