"""Before publishing: TensorFlow's C++ importer (and, for models under 1 GiB, its full loader) accepts the folder.

The check runs tf/capi_runner.py in a child process that never imports
the tensorflow Python package, as Serving would meet the model. The child is
started before the export writes anything, so loading TensorFlow's library
overlaps the work. A model with ``FULL_LOAD_LIMIT`` bytes of variables or more
is only imported (its graph, no weights), so the check costs the same for a
10 GiB model as for a small one.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphsurgeon.errors import UnloadableOutputError
from graphsurgeon.formats import saved_model as layout
from graphsurgeon.tf.capi_child import ENV, runner_answer, runner_command

FULL_LOAD_LIMIT = 2**30  # variables/ bytes up to which the staged folder is loaded in full


def variables_bytes(folder: Path) -> int:
    variables = folder / layout.VARIABLES
    return sum(p.stat().st_size for p in variables.iterdir()) if variables.is_dir() else 0


class LoadChecker:
    """A runner child started now, asked later whether TensorFlow's C++ side accepts a staged folder."""

    def __init__(self, timeout: float = 300):
        self.timeout = timeout
        self.child = subprocess.Popen(runner_command("-"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env={**os.environ, **ENV})

    def __enter__(self) -> "LoadChecker":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.child.poll() is None:
            self.child.kill()
        self.child.communicate()

    def check(self, staging: Path, tags: Sequence[str], graph_def: Any, where: str) -> None:
        """Raise UnloadableOutputError (one line) if TensorFlow's C++ side refuses the staged folder."""
        with tempfile.TemporaryDirectory(prefix="graphsurgeon-load-check-") as tmp:
            if variables_bytes(staging) < FULL_LOAD_LIMIT:
                request: dict = {"export_dir": str(staging), "tags": list(tags), "runs": []}
            else:
                graph_path = Path(tmp, "graph.pb")
                graph_path.write_bytes(graph_def.SerializeToString(deterministic=True))
                request = {"import_graph_def": str(graph_path)}
            path = Path(tmp, "request.json")
            path.write_text(json.dumps(request))
            try:
                stdout, stderr = self.child.communicate(str(path) + "\n", timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self.child.kill()
                stdout, stderr = self.child.communicate()
            report = runner_answer(stdout, "\n".join(stderr.strip().splitlines()[-5:]), self.child.returncode)
        if not report.get("ok"):
            reason = str(report.get("error", "")).strip().splitlines()
            raise UnloadableOutputError(
                f"{where} was not published: TensorFlow's C++ loader refuses it "
                f"({reason[0] if reason else 'no reason given'}); fix what it names, or pass --no-load-check "
                "to publish anyway")
