"""verify(saved_model_dir): lint it, run every signature in TensorFlow's C++ loader, compare with the source."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from graphsurgeon.errors import GraphSurgeonError, LoadError
from graphsurgeon.exporters.serving_files import WARMUP_FILE, warmup_requests
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.loaders import load
from graphsurgeon.loaders.saved_model import is_saved_model
from graphsurgeon.names import TensorRef
from graphsurgeon.verify.cpp_loader import CppLoaderError, Run, run_in_cpp_loader
from graphsurgeon.verify.inputs import sample_inputs
from graphsurgeon.verify.lint import Finding, lint
from graphsurgeon.verify.reference import run_reference


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


def verify(directory: str | os.PathLike, *, inputs: Mapping[str, np.ndarray] | None = None,
           against: str | os.PathLike | None = None, signature: str | None = None,
           tags: Sequence[str] = ("serve",), atol: float = 1e-5, rtol: float = 1e-5,
           asset_dir: str | None = None) -> VerifyReport:
    """Check ``directory`` the way Serving will meet it.

    ``inputs`` maps input keys (or SIGNATURE/KEY) to arrays; numeric inputs
    without one are generated. With ``against``, each output is compared with
    the source model's on the same inputs (|a-b| <= atol + rtol*|b|);
    ``asset_dir`` is where the source's asset files are now, as for export.
    """
    directory = Path(directory)
    if not (directory / "saved_model.pb").is_file():
        raise LoadError(f"{directory} is not a SavedModel directory (no saved_model.pb); give BASE/<version>")
    findings = lint(directory, list(tags))
    model = load(directory, tags=tags, trace=False)  # the C++ loader runs the directory as it is
    keys = _signature_keys(model, signature)
    planned = {key: sample_inputs(model, key, inputs or {}) for key in keys}
    runnable = [k for k in keys if planned[k][1] is None]
    runs = [_run(model, key, planned[key][0]) for key in runnable]
    try:
        results = dict(zip(runnable, run_in_cpp_loader(directory, tags, runs))) if runs else {}
    except CppLoaderError as err:
        findings.append(Finding("C++ loader", False, str(err)))
        return VerifyReport(str(directory), findings, [], str(against) if against else None, False)
    findings.append(Finding("C++ loader", True, f"loaded and ran {len(runs)} signature(s) as Serving would"))
    warmup = directory / "assets.extra" / WARMUP_FILE
    if warmup.is_file():
        findings.append(_warmup_finding(directory, model, tags, warmup))
    references = _references(against, model, runnable, runs, asset_dir) if against is not None else {}
    checks = [_check(model, key, planned[key], results.get(key), references.get(key), atol, rtol) for key in keys]
    # Nothing run proves nothing: at least one signature must have gone through the loader.
    ok = all(f.ok for f in findings) and any(c.ran for c in checks) and all(o.ok for c in checks for o in c.outputs)
    return VerifyReport(str(directory), findings, checks, str(against) if against is not None else None, ok)


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
    return Finding("warmup requests", True, f"{len(runs)} request(s) in {WARMUP_FILE} ran")


def _signature_keys(model: Model, wanted: str | None) -> list[str]:
    keys = sorted(k for k in model.signatures if not k.startswith("__"))
    if wanted is None:
        return keys
    if wanted not in keys:
        raise GraphSurgeonError(f"signature {wanted!r} is not in the model; it has {keys}")
    return [wanted]


def _run(model: Model, key: str, feeds: Mapping[str, np.ndarray]) -> Run:
    sig = model.signatures[key]
    return Run({sig.inputs[k].name: v for k, v in feeds.items()}, [sig.outputs[k].name for k in sorted(sig.outputs)])


def _references(against, model: Model, keys: list[str], runs: list[Run],
                asset_dir: str | None) -> dict[str, list[np.ndarray]]:
    if is_saved_model(Path(against)):
        source = load(against, trace=False)
        # A SavedModel is compared signature key by key: flattening renames a TF2 model's tensors.
        mapped = [_by_keys(model, source, key, run) for key, run in zip(keys, runs)]
        return dict(zip(keys, run_in_cpp_loader(against, _tags(source), mapped)))
    source = load(against)  # a Keras file is traced, as its export was
    mapped = [Run({_source_name(source, n): v for n, v in run.feeds.items()},
                  [_source_name(source, f) for f in run.fetches]) for run in runs]
    return dict(zip(keys, [run_reference(source, run.feeds, run.fetches, asset_dir) for run in mapped]))


def _by_keys(model: Model, source: Model, key: str, run: Run) -> Run:
    exported = model.signatures[key]
    if key not in source.signatures:
        # serving_default added by the export copies another signature: compare with that one's original.
        twins = [k for k, s in sorted(model.signatures.items()) if k != key and k in source.signatures
                 and dict(s.inputs) == dict(exported.inputs) and dict(s.outputs) == dict(exported.outputs)]
        key = twins[0] if twins else key
    original = source.signatures.get(key)
    if original is None:
        raise GraphSurgeonError(f"the source has no signature {key!r} to compare with; compare by hand")
    by_name = {t.name: k for k, t in exported.inputs.items()}
    feeds = {original.inputs[by_name[name]].name: value for name, value in run.feeds.items()}
    fetches = [original.outputs[k].name for k in sorted(exported.outputs)]
    return Run(feeds, fetches)


def _tags(model: Model) -> list[str]:
    return list(model.meta_info.tags) if model.meta_info is not None else ["serve"]


def _source_name(source: Model, name: str) -> str:
    """The source tensor an exported one came from: same name, or node:k for a cut input named node_k."""
    ref = TensorRef.parse(name)
    if ref.node in source.graph:
        return str(ref)
    match = re.fullmatch(r"(.*)_(\d+)", ref.node)
    if match and match.group(1) in source.graph:
        return f"{match.group(1)}:{match.group(2)}"
    raise GraphSurgeonError(f"tensor {name} of the export has no counterpart in the source; compare by hand")


def _check(model: Model, key: str, planned, produced, reference, atol: float, rtol: float) -> SignatureCheck:
    _, skip_reason = planned
    if skip_reason is not None:
        return SignatureCheck(key, False, skip_reason)
    outputs = []
    for name, value, expected in zip(sorted(model.signatures[key].outputs), produced, reference or [None] * len(produced)):
        outputs.append(_compare(name, np.asarray(value), expected, atol, rtol))
    return SignatureCheck(key, True, "", outputs)


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
