"""Shared fixtures: generated models, the real-model corpus, and a CLI runner."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")  # no GPU here; skip TF's CUDA probing noise

from graphsurgeon.cli.main import main  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    """Every fixture from fixtures/build.py, built fresh once per test session.

    Built in a subprocess: the builder switches TensorFlow into TF1 mode globally.
    """
    out = tmp_path_factory.mktemp("generated")
    subprocess.run([sys.executable, str(REPO / "fixtures" / "build.py"), str(out)], check=True,
                   capture_output=True)
    return out


@pytest.fixture(scope="session")
def corpus() -> Path:
    assert CORPUS.is_dir(), f"the shared corpus is expected at {CORPUS}"
    return CORPUS


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run `graphsurgeon ARGS...` in-process with a fixed console width."""
    monkeypatch.setenv("COLUMNS", "120")

    def run(*args: str) -> CliResult:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
