"""How graphsurgeon starts TensorFlow's C++ runtime in a child process (tf/capi_runner.py) and reads its answer.

The export's load check (exporters/load_check.py) and verify's runs (verify/cpp_loader.py)
start the same runner the same way; this module is what they share. It imports nothing of
TensorFlow: the child loads libtensorflow_cc itself.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

RUNNER = Path(__file__).with_name("capi_runner.py")
ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "-1"}  # no INFO lines, no CUDA probing


def runner_command(argument: str) -> list[str]:
    """The child's command line: a REQUEST.json path, or "-" to serve request paths read from stdin."""
    # -I: isolated mode, so nothing from graphsurgeon or the cwd is importable in the child.
    return [sys.executable, "-I", str(RUNNER), argument]


def runner_answer(stdout: str, stderr_tail: str, code: int | None) -> dict:
    """The JSON answer on the child's last stdout line, or a crash report naming its exit code."""
    lines = stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return {"ok": False, "error": f"the loader process crashed (exit {code}): {stderr_tail}"}
