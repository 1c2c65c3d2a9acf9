"""TensorFlow's DataType enum: names, numpy types and sizes, without importing tensorflow."""
from __future__ import annotations

import functools

import numpy as np

from graphsurgeon.errors import GraphSurgeonError

# DataType enum -> (name, numpy dtype or None for types numpy cannot hold).
DTYPES: dict[int, tuple[str, np.dtype | None]] = {
    1: ("float32", np.dtype(np.float32)), 2: ("float64", np.dtype(np.float64)), 3: ("int32", np.dtype(np.int32)),
    4: ("uint8", np.dtype(np.uint8)), 5: ("int16", np.dtype(np.int16)), 6: ("int8", np.dtype(np.int8)),
    7: ("string", np.dtype(object)), 8: ("complex64", np.dtype(np.complex64)), 9: ("int64", np.dtype(np.int64)),
    10: ("bool", np.dtype(np.bool_)), 14: ("bfloat16", None), 17: ("uint16", np.dtype(np.uint16)),
    18: ("complex128", np.dtype(np.complex128)), 19: ("float16", np.dtype(np.float16)),
    20: ("resource", None), 21: ("variant", None), 22: ("uint32", np.dtype(np.uint32)),
    23: ("uint64", np.dtype(np.uint64)),
    # Quantized types are their raw integers (a quint8 is a uint8; its float range travels beside it, as the
    # min/max inputs of Dequantize): graphsurgeon carries their bytes and never does arithmetic on them.
    11: ("qint8", np.dtype(np.int8)), 12: ("quint8", np.dtype(np.uint8)), 13: ("qint32", np.dtype(np.int32)),
    15: ("qint16", np.dtype(np.int16)), 16: ("quint16", np.dtype(np.uint16)),
}
QUANTIZED = frozenset({11, 12, 13, 15, 16})
BY_NAME = {name: enum for enum, (name, _) in DTYPES.items()} | {"float": 1, "double": 2, "half": 19}
STRING = BY_NAME["string"]
COMPLEX = frozenset({BY_NAME["complex64"], BY_NAME["complex128"]})  # two repeated-field values per element
VARIABLE_WIDTH = frozenset({STRING, BY_NAME["resource"], BY_NAME["variant"]})
REF_OFFSET = 100  # DataType enums 101..199 are the reference types of 1..99 (DT_FLOAT_REF = 101)
# Types TensorFlow defines that numpy cannot hold: (name, bytes per element in a TensorProto's content).
WITHOUT_NUMPY = {14: ("bfloat16", 2), 24: ("float8_e5m2", 1), 25: ("float8_e4m3fn", 1), 26: ("float8_e4m3fnuz", 1),
                 27: ("float8_e4m3b11fnuz", 1), 28: ("float8_e5m2fnuz", 1), 29: ("int4", 1), 30: ("uint4", 1),
                 31: ("int2", 1), 32: ("uint2", 1), 33: ("float4_e2m1fn", 1)}
# Which repeated field of a TensorProto holds values of a dtype when tensor_content is empty.
VALUE_FIELDS = {1: "float_val", 2: "double_val", 3: "int_val", 4: "int_val", 5: "int_val", 6: "int_val",
                9: "int64_val", 10: "bool_val", 17: "int_val", 19: "half_val", 22: "uint32_val", 23: "uint64_val",
                8: "scomplex_val", 18: "dcomplex_val", **{enum: "int_val" for enum in QUANTIZED}}


class UnsupportedDtypeError(GraphSurgeonError, TypeError):
    """A DataType graphsurgeon cannot hold values of, or an enum TensorFlow does not define."""


def base(enum: int) -> int:
    """The value type of a reference type (float32_ref -> float32); other types as they are."""
    return enum - REF_OFFSET if is_ref(enum) else enum


def is_ref(enum: int) -> bool:
    return REF_OFFSET < enum < 2 * REF_OFFSET


def ref_of(enum: int) -> int:
    """The reference type of a value type (an op's is_ref output)."""
    return enum + REF_OFFSET


def name_of(enum: int) -> str:
    entry = DTYPES.get(base(enum)) or WITHOUT_NUMPY.get(base(enum))
    return entry[0] if entry else f"dtype{base(enum)}"


def is_defined(enum: int) -> bool:
    """Whether TensorFlow defines this DataType enum (a ref type counts as its base type)."""
    return base(enum) in DTYPES or base(enum) in WITHOUT_NUMPY


def enum_of(name: str) -> int:
    if name not in BY_NAME:
        raise UnsupportedDtypeError(f"unknown dtype {name!r}; use one of {', '.join(sorted(BY_NAME))}")
    return BY_NAME[name]


def numpy_of(enum: int) -> np.dtype:
    entry = DTYPES.get(base(enum))
    if entry is None or entry[1] is None:
        defined = "has no numpy equivalent" if is_defined(enum) else "is not a TensorFlow DataType"
        raise UnsupportedDtypeError(f"dtype {name_of(enum)} {defined}, so graphsurgeon cannot read or write its "
                                    "values; convert the model's tensors of that type in TensorFlow first")
    return entry[1]


def numpy_of_or_none(enum: int) -> np.dtype | None:
    entry = DTYPES.get(base(enum))
    return entry[1] if entry else None


@functools.cache  # asked for every constant and checkpoint entry of 100k-node graphs
def itemsize(enum: int) -> int:
    """Bytes per element; 0 for variable-width types (string, resource, variant)."""
    enum = base(enum)
    if enum in VARIABLE_WIDTH:
        return 0
    if enum in WITHOUT_NUMPY:
        return WITHOUT_NUMPY[enum][1]
    return numpy_of(enum).itemsize




def widens(stored: int, declared: int) -> bool:
    """True if every ``stored`` value is exactly a ``declared`` value (float16 -> float32, int32 -> int64)."""
    a, b = DTYPES.get(base(stored), (None, None))[1], DTYPES.get(base(declared), (None, None))[1]
    if a is None or b is None or a == b or a.kind not in "fiu" or a.kind != b.kind:
        return False
    return bool(np.can_cast(a, b, "safe"))
