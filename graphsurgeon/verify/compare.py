"""One output against the source's: tolerances, NaN and Inf, and outputs that check nothing.

An output passes when |export - source| <= atol + rtol * |source| holds for
every element. NaN (or an Inf of the same sign) in the same places on both
sides is the source's own doing, reported as such and not a mismatch; NaN
only in the export is a failure. An output with zero elements checks nothing
and fails, unless the user says it is truly empty (--allow-empty).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from graphsurgeon import defaults

Tolerance = float | Mapping[str, float]


@dataclass(frozen=True)
class OutputCheck:
    key: str
    shape: list[int]
    dtype: str
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    ok: bool = True
    problem: str = ""  # why it fails, and the way out
    notes: list[str] = field(default_factory=list)  # findings that are not failures


def tolerance(value: Tolerance, key: str, output: str, default: float) -> float:
    """The tolerance for SIGNATURE/OUTPUT: its own, the output key's, the "" entry, else ``default``."""
    if not isinstance(value, Mapping):
        return value
    for name in (f"{key}/{output}", output, ""):
        if name in value:
            return value[name]
    return default


def check_output(signature: str, key: str, values: list[np.ndarray], expected: list[np.ndarray] | None,
                 atol: Tolerance, rtol: Tolerance, allow_empty: bool) -> OutputCheck:
    """The export's values of one output (one array per run) against the source's (None: nothing to compare)."""
    first = np.asarray(values[0])
    base = OutputCheck(key, list(first.shape), str(first.dtype))
    if first.size == 0 and not allow_empty:
        return _failed(base, f"it has zero elements (shape {list(first.shape)}), so it checks nothing: pass "
                             f"--feeds FILE.npz with inputs that fill it, or --allow-empty {key} if it is truly empty")
    if expected is None:
        return base
    absolute = tolerance(atol, signature, key, defaults.ATOL)
    relative = tolerance(rtol, signature, key, defaults.RTOL)
    checks = [_compare(base, np.asarray(v), np.asarray(e), absolute, relative) for v, e in zip(values, expected)]
    failed = next((c for c in checks if not c.ok), None)
    errors = [c.max_abs_error for c in checks if c.max_abs_error is not None]
    relatives = [c.max_rel_error for c in checks if c.max_rel_error is not None]
    notes = checks[0].notes if checks else []  # what the source itself produces, at the main batch
    return OutputCheck(key, base.shape, base.dtype, max(errors) if errors else None,
                       max(relatives) if relatives else None, failed is None, failed.problem if failed else "", notes)


def _failed(base: OutputCheck, problem: str) -> OutputCheck:
    return OutputCheck(base.key, base.shape, base.dtype, base.max_abs_error, base.max_rel_error, False, problem,
                       base.notes)


def _compare(base: OutputCheck, value: np.ndarray, expected: np.ndarray, atol: float, rtol: float) -> OutputCheck:
    if value.shape != expected.shape:
        return _failed(base, f"shape {list(value.shape)}, but the source gives {list(expected.shape)}")
    if value.dtype.kind not in "fc" or expected.dtype.kind not in "fc":
        same = value == expected if value.dtype.kind in "OSUb" or expected.dtype.kind in "OSUb" else \
            np.abs(value.astype(np.float64) - expected.astype(np.float64)) <= atol + rtol * np.abs(expected)
        wrong = int(np.size(same) - np.count_nonzero(same))
        checked = OutputCheck(base.key, base.shape, base.dtype, 0.0 if not wrong else None, None)
        return checked if not wrong else _failed(checked, f"differs from the source at {wrong} of {value.size} elements")
    return _compare_floats(base, value.astype(np.float64), expected.astype(np.float64), atol, rtol)


def _compare_floats(base: OutputCheck, value: np.ndarray, expected: np.ndarray, atol: float, rtol: float) -> OutputCheck:
    with np.errstate(invalid="ignore"):  # Inf - Inf where both have it: masked below
        return _compare_masked(base, value, expected, atol, rtol)


def _compare_masked(base: OutputCheck, value: np.ndarray, expected: np.ndarray, atol: float, rtol: float) -> OutputCheck:
    both_nan = np.isnan(value) & np.isnan(expected)
    same_inf = np.isinf(value) & (value == expected)
    finite = np.isfinite(value) & np.isfinite(expected)
    diff = np.where(finite, np.abs(value - expected), 0.0)
    rel = diff / np.maximum(np.abs(np.where(finite, expected, 1.0)), 1e-12)
    close = finite & (diff <= atol + rtol * np.abs(np.where(finite, expected, 0.0)))
    notes = [f"the source itself produces {what} at {int(np.count_nonzero(mask))} of {value.size} elements; "
             "the export does the same" for what, mask in (("NaN", both_nan), ("Inf", same_inf)) if mask.any()]
    checked = OutputCheck(base.key, base.shape, base.dtype, _largest(diff), _largest(rel),
                          True, "", notes)
    export_nan = np.isnan(value) & ~np.isnan(expected)
    if export_nan.any():
        return _failed(checked, f"NaN in the export at {int(np.count_nonzero(export_nan))} of {value.size} elements "
                                "where the source gives numbers")
    wrong = value.size - int(np.count_nonzero(close | both_nan | same_inf))
    if wrong:
        return _failed(checked, f"differs from the source at {wrong} of {value.size} elements "
                                f"(max abs {checked.max_abs_error:.3g}; tolerance {atol:g} + {rtol:g} x |source|)")
    return checked


def same_outputs(first: list[np.ndarray], second: list[np.ndarray], atol: float, rtol: float) -> bool:
    """Whether two runs on the same inputs agree within tolerance (NaN where both have it counts as agreeing)."""
    for a, b in zip(first, second):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc" and b.dtype.kind in "fc":
            if not np.allclose(a, b, atol=atol, rtol=rtol, equal_nan=True):
                return False
        elif not np.array_equal(a, b):
            return False
    return True


def _largest(values: np.ndarray) -> float:
    """The largest element, 0 for none (numpy's ``initial=`` is typed differently across its versions)."""
    return float(values.max()) if values.size else 0.0
