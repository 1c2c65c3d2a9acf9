"""Running models in TensorFlow's C++ runtime, in a child process that never imports tensorflow.

The child is tf/capi_runner.py, started as tf/capi_child.py says. ``LoaderChild`` starts it early, so that
loading TensorFlow's library overlaps the parent's own work, and then asks it
one request after another; ``run_in_cpp_loader`` is the one-shot form.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from graphsurgeon.errors import GraphSurgeonError
from graphsurgeon.tf.capi_child import ENV, runner_answer, runner_command

TIMEOUT = 300.0


class CppLoaderError(GraphSurgeonError):
    """TensorFlow's C++ SavedModel loader refused the model or failed to run it."""


@dataclass(frozen=True)
class Run:
    feeds: Mapping[str, np.ndarray]  # tensor name -> value
    fetches: Sequence[str]  # tensor names
    targets: Sequence[str] = ()  # operations to run for their effect (restores, initializers)


@dataclass(frozen=True)
class Session:
    """One model the child opens: a SavedModel as Serving loads it, or a GraphDef file in a new session."""

    runs: Sequence[Run]
    export_dir: str | None = None
    tags: Sequence[str] = ()
    graph_def: str | None = None

    def describe(self) -> str:
        return str(self.export_dir or self.graph_def)


@dataclass(frozen=True)
class SessionResult:
    """What one session gave: ``error`` if it did not open; per run, its outputs or its error."""

    error: str | None
    outputs: list[list[np.ndarray] | None] = field(default_factory=list)
    errors: list[str | None] = field(default_factory=list)


def _write_request(tmp: str, sessions: Sequence[Session]) -> Path:
    arrays: dict[str, Any] = {}
    described = []
    for k, session in enumerate(sessions):
        runs = []
        for i, run in enumerate(session.runs):
            keys = {}
            for j, (name, value) in enumerate(run.feeds.items()):
                keys[name] = f"s{k}_r{i}_{j}"
                arrays[keys[name]] = np.asarray(value)
            runs.append({"feeds": keys, "fetches": list(run.fetches), "targets": list(run.targets)})
        opened: dict[str, Any] = {"export_dir": session.export_dir, "tags": list(session.tags)} \
            if session.export_dir else {"graph_def": session.graph_def}
        described.append({**opened, "runs": runs})
    np.savez(os.path.join(tmp, "in.npz"), **arrays)
    request = {"inputs": os.path.join(tmp, "in.npz"), "outputs": os.path.join(tmp, "out.npz"), "sessions": described}
    path = Path(tmp, "request.json")
    path.write_text(json.dumps(request))
    return path


def _results(report: dict, tmp: str, sessions: Sequence[Session]) -> list[SessionResult]:
    if report.get("tensorflow_imported"):
        raise CppLoaderError("the verifier's child process imported tensorflow; it must use only the C API")
    if "sessions" not in report or len(report["sessions"]) != len(sessions):
        raise CppLoaderError(f"TensorFlow's C++ runtime failed: {report.get('error')}")
    produced = np.load(os.path.join(tmp, "out.npz"), allow_pickle=True)  # written by our own child
    results = []
    for k, (session, answer) in enumerate(zip(sessions, report["sessions"])):
        outputs: list[list[np.ndarray] | None] = []
        errors = list(answer["runs"]) + [None] * (len(session.runs) - len(answer["runs"]))
        for i, run in enumerate(session.runs):
            failed = answer["error"] or errors[i]
            outputs.append(None if failed else [produced[f"s{k}/r{i}/{j}"] for j in range(len(run.fetches))])
        results.append(SessionResult(answer["error"], outputs, errors))
    return results


class LoaderChild:
    """A runner child started now (it loads TensorFlow's library meanwhile), asked later, one request at a time."""

    def __init__(self, timeout: float = TIMEOUT):
        self.timeout = timeout
        self._stderr: IO[bytes] = tempfile.TemporaryFile()
        self.child = subprocess.Popen(runner_command("-"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._stderr, text=True, env={**os.environ, **ENV})

    def __enter__(self) -> "LoaderChild":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.child.poll() is None:
            try:
                assert self.child.stdin is not None
                self.child.stdin.write("\n")
                self.child.stdin.close()
                self.child.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.child.kill()
                self.child.wait()
        self._stderr.close()

    def ask(self, sessions: Sequence[Session]) -> list[SessionResult]:
        """Each session's outputs; CppLoaderError if the child crashes or does not answer in time."""
        with tempfile.TemporaryDirectory(prefix="graphsurgeon-verify-") as tmp:
            path = _write_request(tmp, sessions)
            assert self.child.stdin is not None and self.child.stdout is not None
            try:
                self.child.stdin.write(f"{path}\n")
                self.child.stdin.flush()
            except OSError:
                pass  # the child died; its stderr says why
            line = self._answer(sessions)
            return _results(runner_answer(line, self._stderr_tail(), self.child.poll()), tmp, sessions)

    def _answer(self, sessions: Sequence[Session]) -> str:
        assert self.child.stdout is not None
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.child.stdout], [], [], max(remaining, 0))
            if ready:
                return self.child.stdout.readline()
            if remaining <= 0:
                self.child.kill()
                raise _timeout(", ".join(s.describe() for s in sessions), self.timeout)

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        return _crash_reason(self._stderr.read().decode(errors="replace"))


def _crash_reason(stderr: str) -> str:
    """What a crashed child said: TensorFlow's fatal line (a failed CHECK) rather than its stack trace."""
    lines = stderr.strip().splitlines()
    fatal = [line for line in lines if "Check failed" in line or line.startswith("F0")]
    if fatal:
        return fatal[-1].split("] ", 1)[-1] + " (TensorFlow aborted; inputs of another shape may avoid it)"
    return "\n".join(lines[-5:])


def _timeout(what: str, timeout: float) -> CppLoaderError:
    return CppLoaderError(
        f"TensorFlow's C++ loader did not finish with {what} within {timeout:g} s and was stopped; "
        "the model may block on a queue or input pipeline, or loop forever, and would hang TensorFlow Serving too")


def run_in_cpp_loader(export_dir: str | os.PathLike, tags: Sequence[str], runs: Sequence[Run],
                      timeout: float = TIMEOUT) -> list[list[np.ndarray]]:
    """Load ``export_dir`` as Serving does (TF_LoadSessionFromSavedModel) and run each Run in order; any failure raises."""
    session = Session(runs, export_dir=str(export_dir), tags=tuple(tags))
    with tempfile.TemporaryDirectory(prefix="graphsurgeon-verify-") as tmp:
        path = _write_request(tmp, [session])
        try:
            child = subprocess.run(runner_command(str(path)), capture_output=True, text=True, env={**os.environ, **ENV},
                                   timeout=timeout)
        except subprocess.TimeoutExpired as err:
            raise _timeout(str(export_dir), timeout) from err
        (result,) = _results(runner_answer(child.stdout, _crash_reason(child.stderr), child.returncode), tmp, [session])
    failure = result.error or next((e for e in result.errors if e), None)
    if failure:
        raise CppLoaderError(f"TensorFlow's C++ loader failed on {export_dir}: {failure}")
    return [outputs or [] for outputs in result.outputs]
