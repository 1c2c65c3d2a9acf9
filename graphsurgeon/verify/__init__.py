"""verify(saved_model_dir): lint it, run every signature in TensorFlow's C++ loader, compare with the source."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from graphsurgeon import defaults
from graphsurgeon.errors import GraphSurgeonError, LoadError, UsageError
from graphsurgeon.exporters.serving_files import warmup_requests
from graphsurgeon.formats import saved_model as layout
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.ir.validate import validate
from graphsurgeon.loaders import load
from graphsurgeon.verify.cpp_loader import CppLoaderError, Run, run_in_cpp_loader
from graphsurgeon.verify.inputs import sample_inputs
from graphsurgeon.verify.lint import Finding, lint
from graphsurgeon.verify.replay import Reference


@dataclass(frozen=True)
class OutputCheck:
    key: str
    shape: list[int]
    dtype: str
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    ok: bool = True


@dataclass(frozen=True)
class SignatureCheck:
    key: str
    ran: bool
    note: str = ""
    outputs: list[OutputCheck] = field(default_factory=list)


@dataclass(frozen=True)
class VerifyReport:
    directory: str
    findings: list[Finding]
    signatures: list[SignatureCheck]
    compared_with: str | None
    ok: bool


Tolerance = float | Mapping[str, float]


def verify(directory: str | os.PathLike, *, feeds: Mapping[str, np.ndarray] | None = None,
           against: str | os.PathLike | None = None, signature: str | None = None,
           tags: Sequence[str] = defaults.EXPORT_TAGS, atol: Tolerance = defaults.ATOL,
           rtol: Tolerance = defaults.RTOL, asset_dir: str | None = None, replay: bool = True,
           inputs: Mapping[str, np.ndarray] | None = None, weights: str | None = None,
           replace_layers: Sequence[str] | None = None) -> VerifyReport:
    """Check ``directory`` the way Serving will meet it.

    ``feeds`` maps input keys (or SIGNATURE/KEY) to arrays; numeric inputs
    without one are generated, with shapes that fit both the export and the
    source. With ``against``, each output is compared with the source model's
    on the same inputs (|a-b| <= atol + rtol*|b|; a tolerance may be a mapping
    from output key, or SIGNATURE/KEY, to its own value, with "" as the
    default). Without it, an export graphsurgeon made is compared with the
    source its recorded recipe names, with that recipe's bindings and input
    overrides (``replay`` False skips that); ``asset_dir`` is where the
    source's asset files are now, and ``weights`` where a checkpoint it
    restores at init is now, as for export (default: the recipe's).
    ``replace_layers`` ("NAME=module.py:function", as for export) rebuilds a
    Keras source whose layers the export replaced: verify never runs the
    replacement a recorded recipe names (the record is part of the directory).
    """
    directory = Path(directory)
    feeds = feeds if feeds is not None else inputs
    if not layout.has_proto(directory):
        raise LoadError(f"{directory} is not a SavedModel directory (no saved_model.pb); give BASE/<version>")
    findings = lint(directory, list(tags))
    model = load(directory, tags=tags, trace=False)  # the C++ loader runs the directory as it is
    validate(model.graph, str(directory), fix="re-export it", registered=False)  # lint names unregistered ops
    keys = _signature_keys(model, signature)
    reference = Reference.open(directory, against, replay, asset_dir, findings, weights, replace_layers)
    shapes = {key: reference.input_shapes(model, key) for key in keys} if reference else {}
    _refuse_unmatched_feeds(feeds or {}, model, keys)
    planned = {key: sample_inputs(model, key, feeds or {}, shapes.get(key, {})) for key in keys}
    runnable = [k for k in keys if planned[k][1] is None]
    runs = [_run(model, key, planned[key][0]) for key in runnable]
    compared = reference.describe() if reference else None
    try:
        results = dict(zip(runnable, run_in_cpp_loader(directory, tags, runs))) if runs else {}
    except CppLoaderError as err:
        findings.append(Finding("C++ loader", False, str(err)))
        return VerifyReport(str(directory), findings, [], compared, False)
    findings.append(Finding("C++ loader", True, f"loaded and ran {len(runs)} signature(s) as Serving would"))
    warmup = layout.extra(directory) / layout.WARMUP_FILE
    if warmup.is_file():
        findings.append(_warmup_finding(directory, model, tags, warmup))
    references = reference.outputs(model, runnable, runs) if reference else {}
    checks = [_check(model, key, planned[key], results.get(key), references.get(key), atol, rtol) for key in keys]
    # Nothing run proves nothing: at least one signature must have gone through the loader.
    ok = all(f.ok for f in findings) and any(c.ran for c in checks) and all(o.ok for c in checks for o in c.outputs)
    return VerifyReport(str(directory), findings, checks, compared, ok)


def _refuse_unmatched_feeds(feeds: Mapping[str, np.ndarray], model: Model, keys: list[str]) -> None:
    known = {k for key in keys for k in model.signatures[key].inputs}
    known |= {f"{key}/{k}" for key in keys for k in model.signatures[key].inputs}
    unknown = sorted(set(feeds) - known)
    if unknown:
        raise UsageError(f"--feeds key(s) {', '.join(unknown)} match no signature input; the inputs are "
                         f"{', '.join(sorted(known))}")


def _warmup_finding(directory: Path, model: Model, tags, path: Path) -> Finding:
    """Serving replays the warmup file at load: every request must parse and run."""
    requests = warmup_requests(path)
    runs = []
    for request in requests:
        sig = model.signatures.get(request.model_spec.signature_name or "serving_default")
        if sig is None:
            return Finding("warmup requests", False, f"a request names signature "
                           f"{request.model_spec.signature_name!r}, which the model lacks")
        runs.append(Run({sig.inputs[k].name: to_array(v) for k, v in request.inputs.items()},
                        [sig.outputs[k].name for k in sorted(sig.outputs)]))
    try:
        run_in_cpp_loader(directory, tags, runs)
    except CppLoaderError as err:
        return Finding("warmup requests", False, str(err))
    return Finding("warmup requests", True, f"{len(runs)} request(s) in {layout.WARMUP_FILE} ran")


def _signature_keys(model: Model, wanted: str | None) -> list[str]:
    keys = list(model.user_signatures)
    if wanted is None:
        return keys
    if wanted not in keys:
        raise GraphSurgeonError(f"signature {wanted!r} is not in the model; it has {keys}")
    return [wanted]


def _run(model: Model, key: str, feeds: Mapping[str, np.ndarray]) -> Run:
    sig = model.signatures[key]
    return Run({sig.inputs[k].name: v for k, v in feeds.items()}, [sig.outputs[k].name for k in sorted(sig.outputs)])


def _check(model: Model, key: str, planned, produced, reference, atol: Tolerance, rtol: Tolerance) -> SignatureCheck:
    _, skip_reason = planned
    if skip_reason is not None:
        return SignatureCheck(key, False, skip_reason)
    outputs = []
    for name, value, expected in zip(sorted(model.signatures[key].outputs), produced, reference or [None] * len(produced)):
        tolerance = (_tolerance(atol, key, name), _tolerance(rtol, key, name))
        outputs.append(_compare(name, np.asarray(value), expected, *tolerance))
    return SignatureCheck(key, True, "", outputs)


def _tolerance(value: Tolerance, key: str, output: str) -> float:
    if not isinstance(value, Mapping):
        return value
    for name in (f"{key}/{output}", output, ""):
        if name in value:
            return value[name]
    return defaults.ATOL


def _compare(key: str, value: np.ndarray, expected, atol: float, rtol: float) -> OutputCheck:
    base = OutputCheck(key, list(value.shape), str(value.dtype))
    if expected is None:
        return base
    expected = np.asarray(expected)
    if value.shape != expected.shape:
        return OutputCheck(key, list(value.shape), str(value.dtype), None, None, False)
    if value.dtype.kind in "OSUb" or expected.dtype.kind in "OSUb":
        same = bool(np.array_equal(value, expected))
        return OutputCheck(key, list(value.shape), str(value.dtype), 0.0 if same else None, 0.0 if same else None, same)
    diff = np.abs(value.astype(np.float64) - expected.astype(np.float64))
    rel = diff / np.maximum(np.abs(expected.astype(np.float64)), 1e-12)
    ok = bool(np.all(diff <= atol + rtol * np.abs(expected)))
    return OutputCheck(key, list(value.shape), str(value.dtype), float(diff.max(initial=0.0)),
                       float(rel.max(initial=0.0)), ok)
