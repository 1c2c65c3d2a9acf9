"""TensorFlow's DataType enum: names, numpy types and sizes, without importing tensorflow."""
from __future__ import annotations

import numpy as np

# DataType enum -> (name, numpy dtype or None for types numpy cannot hold).
DTYPES: dict[int, tuple[str, np.dtype | None]] = {
    1: ("float32", np.dtype(np.float32)), 2: ("float64", np.dtype(np.float64)), 3: ("int32", np.dtype(np.int32)),
    4: ("uint8", np.dtype(np.uint8)), 5: ("int16", np.dtype(np.int16)), 6: ("int8", np.dtype(np.int8)),
    7: ("string", np.dtype(object)), 8: ("complex64", np.dtype(np.complex64)), 9: ("int64", np.dtype(np.int64)),
    10: ("bool", np.dtype(np.bool_)), 14: ("bfloat16", None), 17: ("uint16", np.dtype(np.uint16)),
    18: ("complex128", np.dtype(np.complex128)), 19: ("float16", np.dtype(np.float16)),
    20: ("resource", None), 21: ("variant", None), 22: ("uint32", np.dtype(np.uint32)),
    23: ("uint64", np.dtype(np.uint64)),
}
BY_NAME = {name: enum for enum, (name, _) in DTYPES.items()} | {"float": 1, "double": 2, "half": 19}
VARIABLE_WIDTH = frozenset({7, 20, 21})
# Which repeated field of a TensorProto holds values of a dtype when tensor_content is empty.
VALUE_FIELDS = {1: "float_val", 2: "double_val", 3: "int_val", 4: "int_val", 5: "int_val", 6: "int_val",
                9: "int64_val", 10: "bool_val", 17: "int_val", 19: "half_val", 22: "uint32_val", 23: "uint64_val",
                8: "scomplex_val", 18: "dcomplex_val"}


def base(enum: int) -> int:
    return enum - 100 if enum > 100 else enum


def name_of(enum: int) -> str:
    entry = DTYPES.get(base(enum))
    return entry[0] if entry else f"dtype{base(enum)}"


def enum_of(name: str) -> int:
    if name not in BY_NAME:
        raise TypeError(f"unknown dtype {name!r}")
    return BY_NAME[name]


def numpy_of(enum: int) -> np.dtype:
    entry = DTYPES.get(base(enum))
    if entry is None or entry[1] is None:
        raise TypeError(f"dtype {name_of(enum)} has no numpy equivalent")
    return entry[1]


def itemsize(enum: int) -> int:
    """Bytes per element; 0 for variable-width types (string, resource, variant)."""
    enum = base(enum)
    if enum in VARIABLE_WIDTH:
        return 0
    if enum == 14:
        return 2
    return numpy_of(enum).itemsize




def widens(stored: int, declared: int) -> bool:
    """True if every ``stored`` value is exactly a ``declared`` value (float16 -> float32, int32 -> int64)."""
    a, b = DTYPES.get(base(stored), (None, None))[1], DTYPES.get(base(declared), (None, None))[1]
    if a is None or b is None or a == b or a.kind not in "fiu" or a.kind != b.kind:
        return False
    return bool(np.can_cast(a, b, "safe"))
