"""Dequantize ranges for which TensorFlow computes NaN or Inf, found from their constant min and max.

graphsurgeon keeps TensorFlow's semantics (a quantized weight travels as its
raw integers, and TensorFlow's own Dequantize kernel turns it into floats), so
a degenerate range gives the same NaN after an export as before it. Tools that
wrote such ranges (quantize_weights on an all-zero tensor writes min 0, max
FLT_MIN) meant something else, so the nodes are named.

The arithmetic below is TensorFlow's CPU kernel (core/kernels/dequantize_op.cc,
quantization_utils.h QuantizedToFloatStruct) in float32, with denormals flushed
to zero as TensorFlow's threads do: in MIN_FIRST mode, (max - min) / 255 for
max = FLT_MIN is a denormal, flushed to a zero scale, and min / 0 is NaN.
"""
from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.names import TensorRef

log = logging.getLogger(__name__)

F32 = np.float32
TINY = np.finfo(F32).tiny


@dataclass(frozen=True)
class BadRange:
    node: str
    dtype: str
    mode: str
    low: float
    high: float

    def describe(self) -> str:
        return f"{self.node!r} ({self.dtype}, {self.mode}, min {self.low:g}, max {self.high:g})"


def nonfinite_dequantizes(graph: Graph, kept: Collection[str] | None = None) -> list[BadRange]:
    """The (kept) Dequantize nodes whose constant range is NaN or Inf or makes TensorFlow output NaN or Inf."""
    found = []
    for node in graph.of_ops({"Dequantize"}):
        if kept is not None and node.name not in kept or len(node.inputs) < 3:
            continue
        low, high = (_constant(graph, ref) for ref in node.inputs[1:3])
        enum = dt.base(node.attrs["T"].type) if "T" in node.attrs else 0
        if low is None or high is None or enum not in dt.QUANTIZED:
            continue
        mode = node.attrs["mode"].s.decode() if "mode" in node.attrs else "MIN_COMBINED"
        narrow = bool(node.attrs["narrow_range"].b) if "narrow_range" in node.attrs else False
        if not _finite(enum, mode, narrow, low, high):
            found.append(BadRange(node.name, dt.name_of(enum), mode, float(np.min(low)), float(np.max(high))))
    return found


def warn_nonfinite_dequantizes(graph: Graph) -> None:
    """One warning naming every Dequantize of ``graph`` with a broken range (see nonfinite_dequantizes)."""
    bad = nonfinite_dequantizes(graph)
    if bad:
        log.warning("%d Dequantize node(s) have a range that is not finite or for which TensorFlow computes NaN "
                    "or Inf, kept as TensorFlow computes it: %s; check that the outputs do not depend on them, or "
                    "re-quantize those weights with a nonzero range", len(bad), "; ".join(b.describe() for b in bad))


def _constant(graph: Graph, ref: TensorRef) -> np.ndarray | None:
    """The float32 value behind ``ref`` when it is an inline Const (a range is a scalar or per-channel vector)."""
    node: Node | None = graph.get(graph.source(ref).node)
    if node is None or node.op != "Const" or node.weight is not None or "value" not in node.attrs:
        return None
    tensor = node.attrs["value"].tensor
    return to_array(tensor).astype(F32) if tensor.dtype == dt.enum_of("float32") else None


def _flush(value: np.ndarray) -> np.ndarray:
    """float32 with denormals flushed to zero, as under TensorFlow's ScopedFlushDenormal."""
    value = np.asarray(value, dtype=F32)
    return np.where(np.abs(value) < TINY, F32(0), value).astype(F32)


def _finite(enum: int, mode: str, narrow: bool, low: np.ndarray, high: np.ndarray) -> bool:
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        return False  # a broken range, even where a kernel ignores that end (SCALED's min, unsigned types)
    info = np.iinfo(dt.numpy_of(enum))
    codes = np.array([info.min, info.max], dtype=np.float64).reshape(2, *([1] * np.ndim(low)))
    with np.errstate(all="ignore"):
        low, high = _flush(low), _flush(high)
        if mode == "MIN_FIRST":
            out = _min_first(info, low, high, codes)
        elif mode == "SCALED":
            lowest = info.min + (1 if narrow else 0)
            scale = _flush(high / F32(info.max)) if info.min == 0 else _flush(
                np.maximum(low / F32(lowest), high / F32(info.max)))
            out = _flush(codes.astype(F32) * scale)
        else:  # MIN_COMBINED
            half = F32(0) if info.min == 0 else F32((float(info.max) - info.min + 1) / 2)
            scale = _flush(_flush(high - low) / F32(float(info.max) - info.min))
            out = _flush(_flush(_flush(codes.astype(F32) + half) * scale) + low)
    return bool(np.all(np.isfinite(out)))


def _min_first(info: np.iinfo, low: np.ndarray, high: np.ndarray, codes: np.ndarray) -> np.ndarray:
    steps = float(2 ** info.bits)
    scale = _flush(_flush(high - low).astype(np.float64) / (steps - 1.0))
    rounded = np.where(high == low, low, _flush(_flush(np.round(_flush(low / scale))) * scale))
    offset = _flush(rounded - _flush(F32(info.min) * scale))
    return _flush(offset + _flush(codes.astype(F32) * scale))
