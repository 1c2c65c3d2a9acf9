"""verify(saved_model_dir): lint it, run every signature in TensorFlow's C++ loader, compare with the source.

The whole check costs one C++ loader child: it starts first (loading
TensorFlow's library while the parent lints, plans the source's cut and
invents inputs), then opens the export as Serving does, runs its warmup
requests and every signature (twice on the same inputs, and at a second batch
size when the batch is free), closes it, and runs the source's cut on the
same inputs (replay.py). A check that checks nothing fails: a signature that
could not run, an output with zero elements.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from graphsurgeon import defaults
from graphsurgeon.errors import GraphSurgeonError, LoadError, UsageError
from graphsurgeon.exporters.serving_files import warmup_requests
from graphsurgeon.formats import saved_model as layout
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.ir.validate import validate
from graphsurgeon.loaders import load
from graphsurgeon.recipe import Recipe
from graphsurgeon.record import Record, read_record
from graphsurgeon.verify.checks import Runs, SignatureCheck, Verdict, judge, pinned
from graphsurgeon.verify.compare import OutputCheck, Tolerance
from graphsurgeon.verify.cpp_loader import LoaderChild, Run, Session, SessionResult
from graphsurgeon.verify.domains import Domain
from graphsurgeon.verify.inputs import BATCHES, FREE, Evidence, InventedInput, SignatureInputs, signature_inputs
from graphsurgeon.verify.lint import Finding, lint
from graphsurgeon.verify.replay import Pairing, Reference, feed_as, work_dir
from graphsurgeon.verify.sizes import smallest_size

__all__ = ["Finding", "InventedInput", "OutputCheck", "SignatureCheck", "VerifyReport", "verify"]


@dataclass(frozen=True)
class VerifyReport:
    directory: str
    findings: list[Finding]
    signatures: list[SignatureCheck]
    compared_with: str | None
    ok: bool


@dataclass(frozen=True)
class Tolerances:
    """What an output may differ by, and which outputs may be empty."""

    atol: Tolerance
    rtol: Tolerance
    allow_empty: frozenset[str] | bool
    samples: bool = False  # the recipe says the model samples on purpose: runs may differ


@dataclass(frozen=True)
class Trial:
    """One signature's inputs, and how its tensors map to the reference's (None: not compared, and why)."""

    key: str
    inputs: SignatureInputs
    pairing: Pairing | None
    uncompared: str = ""


def verify(directory: str | os.PathLike, *, feeds: Mapping[str, np.ndarray] | None = None,
           against: str | os.PathLike | None = None, signature: str | None = None, source: Recipe | None = None,
           export_tags: Sequence[str] | None = None, atol: Tolerance = defaults.ATOL,
           rtol: Tolerance = defaults.RTOL, replay: bool = True, allow_empty: bool | Iterable[str] = False,
           save_feeds: str | os.PathLike | None = None, asset_dir: str | None = None, weights: str | None = None,
           replace_layers: Sequence[str] | None = None) -> VerifyReport:
    """Check ``directory`` the way Serving will meet it.

    ``feeds`` maps input keys (or SIGNATURE/KEY) to arrays; inputs without one
    are invented (inputs.py) and ``save_feeds`` writes them to an .npz, so the
    run can be repeated with ``feeds``. Each output is compared with the
    source's on the same inputs (|a-b| <= atol + rtol*|b|; a tolerance may be a
    mapping from output key, or SIGNATURE/KEY, to its own value, with "" as the
    default): the source ``against`` names, else the one the export's record
    names, with its whole recipe replayed (``replay`` False only loads and runs).
    ``source`` holds the options that load the source, as given to export
    (tags, architecture, custom_objects, replace_layers, unsafe_lambda,
    weights, asset_dir); ``asset_dir``, ``weights`` and ``replace_layers`` are
    shorthands for those fields. Options that run code are never taken from
    the record. ``allow_empty`` (True, or output keys) accepts outputs with
    zero elements. ``export_tags`` picks the export's MetaGraph (default: the
    tags it was exported with).
    """
    directory = Path(directory)
    if not layout.has_proto(directory):
        raise LoadError(f"{directory} is not a SavedModel directory (no saved_model.pb); give BASE/<version>")
    given = _loading_options(source, asset_dir, weights, replace_layers)
    record = read_record(directory)
    tags = tuple(export_tags) if export_tags else record.recipe.export_tag_list if record else defaults.EXPORT_TAGS
    feeds = feeds or {}
    with LoaderChild() as child, work_dir() as work:
        findings = lint(directory, list(tags))
        model = load(directory, tags=tags, trace=False)  # the C++ loader runs the directory as it is
        validate(model.graph, str(directory), fix="re-export it", registered=False)  # lint names unregistered ops
        keys = _signature_keys(model, signature)
        _refuse_unmatched_feeds(feeds, model, keys)
        reference = Reference.open(directory, against, replay, given, findings, model, Path(work))
        trials = [_trial(model, key, feeds, reference, record, directory, BATCHES) for key in keys]
        if save_feeds is not None:
            _save_feeds(trials, save_feeds)
        checks = _checked(child, directory, tags, model, trials, feeds, reference, record, findings,
                          Tolerances(atol, rtol, _allowed(allow_empty), _samples(record)))
    compared = reference.describe() if reference else None
    ok = all(f.ok for f in findings) and bool(checks) and all(c.ok for c in checks)
    return VerifyReport(str(directory), findings, checks, compared, ok)


def _loading_options(source: Recipe | None, asset_dir: str | None, weights: str | None,
                     replace_layers: Sequence[str] | None) -> Recipe:
    given = source or Recipe()
    shorthands = {"asset_dir": asset_dir, "weights": weights,
                  "replace_layers": tuple(replace_layers) if replace_layers else None}
    return given.replace(**{k: v for k, v in shorthands.items() if v is not None})


def _samples(record: Record | None) -> bool:
    """Whether the export's recipe says the model samples on purpose (Recipe.stochastic, --stochastic)."""
    return bool(record.recipe.stochastic) if record is not None else False


def _allowed(allow_empty: bool | Iterable[str]) -> frozenset[str] | bool:
    return allow_empty if isinstance(allow_empty, bool) else frozenset(allow_empty)


def _signature_keys(model: Model, wanted: str | None) -> list[str]:
    keys = list(model.user_signatures)
    if wanted is None:
        return keys
    if wanted not in keys:
        raise GraphSurgeonError(f"signature {wanted!r} is not in the model; it has {keys}")
    return [wanted]


def _refuse_unmatched_feeds(feeds: Mapping[str, np.ndarray], model: Model, keys: list[str]) -> None:
    known = {k for key in keys for k in model.signatures[key].inputs}
    known |= {f"{key}/{k}" for key in keys for k in model.signatures[key].inputs}
    unknown = sorted(set(feeds) - known)
    if unknown:
        raise UsageError(f"--feeds key(s) {', '.join(unknown)} match no signature input; the inputs are "
                         f"{', '.join(sorted(known))}")


def _trial(model: Model, key: str, feeds: Mapping[str, np.ndarray], reference: Reference | None,
           record: Record | None, directory: Path, batches: Sequence[int]) -> Trial:
    pairing = reference.pairing(model, key) if reference is not None else None
    evidence = Evidence(
        source=lambda input_key: reference.source_shape(model, key, input_key) if reference is not None else None,
        record=_recorded_shapes(model, key, record),
        search=lambda shapes, batch: smallest_size(model, key, shapes, FREE, batch),
        domains=_recorded_domains(key, record))
    inputs = signature_inputs(model, key, feeds, evidence, layout.assets(directory), batches)
    if isinstance(pairing, str):
        return Trial(key, inputs, None, pairing)
    return Trial(key, inputs, pairing)


def _recorded_shapes(model: Model, key: str, record: Record | None) -> dict[str, tuple[int, ...] | None]:
    """Input key -> the shape the export's record kept for the tensor it stands for."""
    entries = record.data.get("resolved", {}).get("inputs", []) if record is not None else []
    by_tensor = {f"{e.get('placeholder')}:0": e.get("shape") for e in entries}
    sig = model.signatures[key]
    return {k: tuple(by_tensor[info.name]) if by_tensor.get(info.name) is not None else None
            for k, info in sig.inputs.items()}


def _recorded_domains(key: str, record: Record | None) -> dict[str, Domain]:
    """The encoded-image input of a front end the record names (its decoder runs inside a loop's body)."""
    front = record.recipe.front_end if record is not None else None
    if front is None or key != defaults.DEFAULT_SIGNATURE:
        return {}
    why = f"encoded images for the --image-input {front.image_input} front end the record names: PNG"
    return {front.image_key or defaults.IMAGE_KEY: Domain("image", size=(32, 32, 3), why=why)}


def _save_feeds(trials: Sequence[Trial], path: str | os.PathLike) -> None:
    """The main inputs of every signature as SIGNATURE/KEY arrays, which --feeds reads back."""
    arrays: dict[str, Any] = {}  # Any: numpy's stubs for savez's **kwds differ between numpy versions
    for trial in trials:
        for input_key, value in (trial.inputs.feeds[0].items() if trial.inputs.feeds else ()):
            arrays[f"{trial.key}/{input_key}"] = value.astype(bytes) if value.dtype.kind == "O" else value
    np.savez(path, **arrays)


def _checked(child: LoaderChild, directory: Path, tags: Sequence[str], model: Model, trials: list[Trial],
             feeds: Mapping[str, np.ndarray], reference: Reference | None, record: Record | None,
             findings: list[Finding], settings: Tolerances) -> list[SignatureCheck]:
    """Run everything in the child and judge each signature. One whose invented batch fails at a node runs
    again at another batch (the source's, else 1), with the same ``feeds``: if that runs, the graph pins
    the batch."""
    checks = _round(child, directory, tags, model, trials, reference, findings, settings, warmup=True)
    retry = {t.key: _retry_batch(model, t.key, reference) for t, c in zip(trials, checks) if c.batch_pinned}
    if not retry:
        return checks
    again = [_trial(model, key, feeds, reference, record, directory, (batch,)) for key, (batch, _) in retry.items()]
    rechecked = {c.key: c for c in _round(child, directory, tags, model, again, reference, [], settings, False)}
    return [_after_retry(c, rechecked[c.key], *retry[c.key]) if c.key in rechecked else c for c in checks]


def _retry_batch(model: Model, key: str, reference: Reference | None) -> tuple[int, bool]:
    """(the batch to retry at, whether the source's own signature leaves the batch free too)."""
    sizes = set()
    for input_key, info in model.signatures[key].inputs.items():
        dims = None if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim]
        if dims is not None and not (dims and dims[0] < 0):
            continue  # a scalar, or a batch the signature fixes
        source = reference.source_shape(model, key, input_key) if reference is not None else None
        sizes.add(source[0] if source else -1)
    fixed = {s for s in sizes if s >= 0}
    if len(fixed) == 1 and -1 not in sizes:
        return fixed.pop(), False
    return 1, not fixed


def _after_retry(first: SignatureCheck, retried: SignatureCheck, batch: int, source_free: bool) -> SignatureCheck:
    if not retried.ran:  # it fails at that batch too: the inputs, not the batch
        return replace(first, batch_pinned=False)
    if source_free:
        note = (f"batch {first.batches[0]} fails in the source too, whose own signature leaves the batch free: "
                f"its graph takes batch {batch}, so it was compared at that batch ({first.error})")
        return replace(retried, notes=[note, *retried.notes])
    problem = pinned(first.batches[0], first.error, batch)
    return replace(retried, note="; ".join(p for p in (problem, retried.note) if p), ok=False, batch_pinned=True)


def _round(child: LoaderChild, directory: Path, tags: Sequence[str], model: Model, trials: list[Trial],
           reference: Reference | None, findings: list[Finding], settings: Tolerances,
           warmup: bool) -> list[SignatureCheck]:
    runnable = [t for t in trials if t.inputs.skip is None]
    warm = _warmup_runs(directory, model) if warmup else []
    if isinstance(warm, Finding):
        findings.append(warm)
        warm = []
    export_runs = [run for t in runnable for run in _export_runs(model, t)]
    sessions = [Session([*warm, *export_runs], export_dir=str(directory), tags=tuple(tags))]
    paired = [t for t in runnable if t.pairing is not None]
    if reference is not None and paired:
        sessions.append(reference.session([run for t in paired for run in _reference_runs(model, t)]))
    results = child.ask(sessions)
    exported = results[0]
    if exported.error:
        findings.append(Finding("C++ loader", False, f"TensorFlow's C++ loader failed on {directory}: {exported.error}"))
        return []
    if warmup:
        findings.append(Finding("C++ loader", True, f"loaded and ran {len(runnable)} signature(s) as Serving would"))
        if warm:
            findings.append(_warmup_finding(exported, len(warm)))
    source_runs = _source_runs(results[1], reference, paired, findings) if len(results) > 1 else {}
    runs = _split(exported, len(warm), runnable)
    return [_judged(model, t, runs.get(t.key), source_runs.get(t.key), settings, reference) for t in trials]


def _export_runs(model: Model, trial: Trial) -> list[Run]:
    sig = model.signatures[trial.key]
    fetches = [sig.outputs[k].name for k in sorted(sig.outputs)]
    sets = trial.inputs.feeds
    return [Run({sig.inputs[k].name: v for k, v in f.items()}, fetches) for f in [sets[0], *sets]]


def _reference_runs(model: Model, trial: Trial) -> list[Run]:
    assert trial.pairing is not None
    pairing = trial.pairing
    sig = model.signatures[trial.key]
    fetches = [pairing.outputs[sig.outputs[k].name] for k in sorted(sig.outputs)]
    runs = []
    for f in [trial.inputs.feeds[0], *trial.inputs.feeds]:
        mapped = {}
        for k, v in f.items():
            name, dtype = pairing.inputs[sig.inputs[k].name]
            mapped[name] = feed_as(v, dtype)
        runs.append(Run(mapped, fetches))
    return runs


def _split(result: SessionResult, skip: int, trials: Sequence[Trial]) -> dict[str, Runs]:
    """Each trial's slice of a session's runs (the first ``skip`` runs belong to others)."""
    out, at = {}, skip
    for trial in trials:
        count = len(trial.inputs.feeds) + 1
        out[trial.key] = Runs(result.outputs[at:at + count], result.errors[at:at + count])
        at += count
    return out


def _source_runs(result: SessionResult, reference: Reference | None, paired: list[Trial],
                 findings: list[Finding]) -> dict[str, Runs]:
    assert reference is not None
    setup = len(result.outputs) - sum(len(t.inputs.feeds) + 1 for t in paired)
    failed = result.error or next((e for e in result.errors[:setup] if e), None)
    if failed:
        reference.diagnose(failed)  # raises the clearer error when graphsurgeon can name the cause
        findings.append(Finding("source", False, f"the source {reference.describe()} could not be set up in "
                                f"TensorFlow's runtime, so no output was compared: {failed.strip().splitlines()[0]}"))
        return {}
    return _split(result, setup, paired)


def _judged(model: Model, trial: Trial, export: Runs | None, source: Runs | None, settings: Tolerances,
            reference: Reference | None) -> SignatureCheck:
    if export is None:
        return SignatureCheck(trial.key, False, trial.inputs.skip or "not run", inputs=trial.inputs.invented,
                              ok=False)
    uncompared = trial.uncompared if reference is not None else ""
    verdict = Verdict(trial.key, sorted(model.signatures[trial.key].outputs), trial.inputs.batches,
                      trial.inputs.invented, model.graph, settings.atol, settings.rtol, settings.allow_empty,
                      uncompared, settings.samples)
    return judge(verdict, export, source)


def _warmup_runs(directory: Path, model: Model) -> list[Run] | Finding:
    """Serving replays the warmup file at load: every request must parse and run."""
    path = layout.extra(directory) / layout.WARMUP_FILE
    if not path.is_file():
        return []
    runs = []
    try:
        requests = warmup_requests(path)
    except GraphSurgeonError as err:
        return Finding("warmup requests", False, str(err))
    for request in requests:
        key = request.model_spec.signature_name or defaults.DEFAULT_SIGNATURE
        sig = model.signatures.get(key)
        if sig is None:
            return Finding("warmup requests", False, f"a request names signature {key!r}, which the model lacks")
        unknown = sorted(set(request.inputs) - set(sig.inputs))
        if unknown:
            return Finding("warmup requests", False, f"a request for {key!r} sends input {unknown[0]!r}, which "
                           f"the signature lacks (it takes {', '.join(sorted(sig.inputs))})")
        runs.append(Run({sig.inputs[k].name: to_array(v) for k, v in request.inputs.items()},
                        [sig.outputs[k].name for k in sorted(sig.outputs)]))
    return runs


def _warmup_finding(result: SessionResult, count: int) -> Finding:
    failed = next((e for e in result.errors[:count] if e), None)
    if failed:
        return Finding("warmup requests", False, f"a request in {layout.WARMUP_FILE} fails: {failed.strip().splitlines()[0]}")
    return Finding("warmup requests", True, f"{count} request(s) in {layout.WARMUP_FILE} ran")
