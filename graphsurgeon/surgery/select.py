"""What the user writes beside names: input specs (NAME=DTYPE[DIMS]) and --set values.

Names themselves are resolved by graphsurgeon.ir.resolve, the one resolver."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import numpy as np

from graphsurgeon.errors import UsageError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.formats.limits import INT64_MAX



@dataclass(frozen=True)
class InputSpec:
    """A cut input, optionally with the dtype and shape its Placeholder should get.

    Spelled ``NAME``, ``NAME=float32``, ``NAME=[?,224,224,3]`` or
    ``NAME=float32[?,224,224,3]``: '=' never occurs in TensorFlow names, so it
    cannot clash with ``node:port``.
    """

    name: str
    dtype: str | None = None
    shape: tuple[int, ...] | None = None

    @classmethod
    def parse(cls, text: str) -> "InputSpec":
        name, sep, spec = text.partition("=")
        if not sep:
            return cls(name.strip())
        match = re.fullmatch(r"\s*([A-Za-z0-9_]*)\s*(\[[^\]]*\])?\s*", spec)
        if not match or not (match.group(1) or match.group(2)):
            raise UsageError(f"cannot parse input spec {text!r}: write NAME=DTYPE[DIMS], e.g. images=float32[?,224,224,3]")
        dtype = match.group(1) or None
        if dtype is not None:
            _check_dtype(dtype, text)
        return cls(name.strip(), dtype, _parse_dims(match.group(2), text) if match.group(2) else None)


def _check_dtype(dtype: str, text: str) -> None:
    try:
        dt.enum_of(dtype)
    except TypeError as err:
        raise UsageError(f"unknown dtype {dtype!r} in {text!r}: use e.g. float32, int64, string, bool") from err


def _parse_dims(dims: str, text: str) -> tuple[int, ...]:
    body = dims[1:-1].strip()
    if not body:
        return ()
    out = []
    for dim in body.split(","):
        dim = dim.strip()
        if dim in ("?", "-1", "None"):
            out.append(-1)
        elif dim.isdigit() and int(dim) <= INT64_MAX:
            out.append(int(dim))
        elif dim.isdigit():
            raise UsageError(f"dimension {dim} in {text!r} does not fit TensorFlow's int64 shapes; "
                             "use a real size or ? for unknown")
        else:
            raise UsageError(f"bad dimension {dim!r} in {text!r}: use integers or ? for unknown")
    return tuple(out)


def parse_binding(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` -> (NAME, python value): a number, bool or nested list, or else the text itself
    (for a string tensor: ``path=/data/x.bin``, or ``name='some text'`` quoted to keep it exact)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"cannot parse --set {text!r}: write NAME=VALUE, e.g. keep_prob=1.0 or is_training=false")
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return name.strip(), lowered == "true"
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return name.strip(), value  # text: only a string tensor takes it (as_array says so otherwise)
    if not _all_finite(parsed):  # 1e999 parses as inf
        raise UsageError(f"--set {text!r}: the value is not finite (inf or nan); a constant that replaces a "
                         "tensor must be a finite number")
    return name.strip(), parsed


def _all_finite(value: object) -> bool:
    try:
        array = np.asarray(value)
    except ValueError:
        return True  # ragged lists: as_array refuses them with the tensor's name
    return array.dtype.kind not in "fc" or bool(np.isfinite(array).all())


def as_array(value: object, dtype_enum: int, name: str) -> np.ndarray:
    """``value`` as the tensor's dtype; numpy's lenient casts ("yes" -> True) are refused."""
    problem = UsageError(f"--set {name}: {value!r} is not a valid {dt.name_of(dtype_enum)} value"
                         + (" (use a number, true/false, or a list)" if isinstance(value, str) else ""))
    if dtype_enum == dt.STRING:
        return _strings(value, problem)
    target = dt.numpy_of(dtype_enum)
    try:
        given = np.asarray(value)
    except ValueError as err:
        raise problem from err
    if target.kind == "b" and given.dtype.kind != "b":
        raise problem
    if target.kind in "iufc" and given.dtype.kind not in "biufc":
        raise problem
    if target.kind in "iu" and given.dtype.kind in "fc":
        raise problem
    return given.astype(target)


def _strings(value: object, problem: UsageError) -> np.ndarray:
    """A string tensor's value: text (UTF-8 encoded), bytes, or nested lists of them; a number as
    it prints (``--set name=123`` is the text 123)."""
    given = np.asarray(value, dtype=object)
    flat = given.ravel()
    if not all(isinstance(v, (str, bytes, int, float)) and not isinstance(v, bool) for v in flat):
        raise problem
    encoded = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in flat]
    return np.array(encoded, dtype=object).reshape(given.shape)
