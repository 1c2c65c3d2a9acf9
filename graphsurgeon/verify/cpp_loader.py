"""Running a SavedModel in TensorFlow's C++ loader, in a child process that never imports tensorflow."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from graphsurgeon.errors import GraphSurgeonError

RUNNER = Path(__file__).with_name("capi_runner.py")


class CppLoaderError(GraphSurgeonError):
    """TensorFlow's C++ SavedModel loader refused the model or failed to run it."""


@dataclass(frozen=True)
class Run:
    feeds: Mapping[str, np.ndarray]  # tensor name -> value
    fetches: Sequence[str]  # tensor names


def run_in_cpp_loader(export_dir: str | os.PathLike, tags: Sequence[str], runs: Sequence[Run],
                      timeout: float = 300) -> list[list[np.ndarray]]:
    """Load ``export_dir`` as Serving does (TF_LoadSessionFromSavedModel) and run each Run in order."""
    with tempfile.TemporaryDirectory(prefix="graphsurgeon-verify-") as tmp:
        arrays: dict[str, Any] = {}
        request_runs = []
        for i, run in enumerate(runs):
            keys = {}
            for j, (name, value) in enumerate(run.feeds.items()):
                keys[name] = f"r{i}_{j}"
                arrays[keys[name]] = np.asarray(value)
            request_runs.append({"feeds": keys, "fetches": list(run.fetches)})
        np.savez(os.path.join(tmp, "in.npz"), **arrays)
        request = {"export_dir": str(export_dir), "tags": list(tags), "inputs": os.path.join(tmp, "in.npz"),
                   "outputs": os.path.join(tmp, "out.npz"), "runs": request_runs}
        Path(tmp, "request.json").write_text(json.dumps(request))
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "-1"}
        # -I: isolated mode, so nothing from graphsurgeon or the cwd is importable in the child.
        child = _run_child([sys.executable, "-I", str(RUNNER), str(Path(tmp, "request.json"))], env, timeout,
                           export_dir)
        report = _report(child)
        if report.get("tensorflow_imported"):
            raise CppLoaderError("the verifier's child process imported tensorflow; it must use only the C API")
        if not report.get("ok"):
            raise CppLoaderError(f"TensorFlow's C++ loader failed on {export_dir}: {report.get('error')}")
        produced = np.load(os.path.join(tmp, "out.npz"), allow_pickle=True)
        return [[produced[f"run{i}/{j}"] for j in range(len(run.fetches))] for i, run in enumerate(runs)]


def _run_child(command: list[str], env: Mapping[str, str], timeout: float,
               export_dir: str | os.PathLike) -> subprocess.CompletedProcess:
    """Run the loader child; one that hangs is killed (subprocess.run does) and named as such."""
    try:
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        raise CppLoaderError(
            f"TensorFlow's C++ loader did not finish with {export_dir} within {timeout:g} s and was stopped; "
            "the model may block on a queue or input pipeline, or loop forever, and would hang TensorFlow Serving too"
        ) from err


def _report(child: subprocess.CompletedProcess) -> dict:
    lines = child.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = "\n".join(child.stderr.strip().splitlines()[-5:])
        return {"ok": False, "error": f"the loader process crashed (exit {child.returncode}): {tail}"}
