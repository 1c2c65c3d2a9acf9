"""TensorProto <-> numpy, without importing tensorflow.

Reading and writing frozen graphs should not pay TensorFlow's import (seconds,
half a gigabyte), so conversions the writers need live here.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.formats.dtypes import DTYPES, VALUE_FIELDS, base, numpy_of
from graphsurgeon.tf.protos import pb, shape_proto


def to_array(proto: Any) -> np.ndarray:
    """The value of a TensorProto as a numpy array (strings as an object array of bytes)."""
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    dtype = numpy_of(proto.dtype)
    if proto.dtype == dt.STRING:
        values = np.array(list(proto.string_val), dtype=object)
    elif proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=dtype).reshape(shape).copy()
    else:
        values = _typed_values(proto, dtype)
    count = int(np.prod(shape))
    if values.size == count:
        return values.reshape(shape)
    if values.size == 0:
        return np.zeros(shape, dtype=dtype)
    # A constant may store fewer values than elements: the last one repeats.
    return np.concatenate([values, np.repeat(values[-1:], count - values.size)]).reshape(shape)


def _typed_values(proto: Any, dtype: np.dtype) -> np.ndarray:
    values = getattr(proto, VALUE_FIELDS[proto.dtype])
    if proto.dtype == 19:  # half_val holds the raw 16-bit patterns
        return np.array(list(values), dtype=np.uint16).view(np.float16)
    if proto.dtype in dt.COMPLEX:
        pairs = np.array(list(values), dtype=np.float64).reshape(-1, 2)
        return (pairs[:, 0] + 1j * pairs[:, 1]).astype(dtype)
    return np.array(list(values), dtype=dtype)


def to_proto(value: ArrayLike, dtype: int | None = None) -> Any:
    """A TensorProto holding ``value`` (bytes in tensor_content, strings in string_val)."""
    proto = pb.tensor_pb2.TensorProto()
    if dtype is not None and base(dtype) == dt.STRING or dtype is None and _is_strings(value):
        array = np.asarray(value, dtype=object)
        proto.dtype = 7
        proto.string_val.extend(v if isinstance(v, bytes) else str(v).encode() for v in array.ravel().tolist())
    else:
        array = np.asarray(value, dtype=numpy_of(dtype) if dtype is not None else None)
        proto.dtype = base(dtype) if dtype is not None else _enum_for_numpy(array.dtype)
        proto.tensor_content = np.ascontiguousarray(array).tobytes()
    proto.tensor_shape.CopyFrom(shape_proto(array.shape))
    return proto


def _is_strings(value: ArrayLike) -> bool:
    return np.asarray(value).dtype.kind in "OSU"


def _enum_for_numpy(dtype: np.dtype) -> int:
    for enum, (_, candidate) in DTYPES.items():
        if candidate is not None and candidate == dtype and enum != 7:
            return enum
    raise TypeError(f"numpy dtype {dtype} has no TensorFlow equivalent")

