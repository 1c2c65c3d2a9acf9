"""Shared fixtures: generated models, the real-model corpus, and a CLI runner."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")  # no GPU here; skip TF's CUDA probing noise

from hypothesis import configuration  # noqa: E402

from graphsurgeon.cli.main import main  # noqa: E402
from graphsurgeon.tf.protos import pb
from tests.checkout import pytest_sessionfinish, pytest_sessionstart  # noqa: F401  (pytest's hooks)

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"

# Hypothesis writes its caches to ./.hypothesis, the checkout, unless told otherwise before collection.
configuration.set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "graphsurgeon-hypothesis")


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    """Every fixture from fixtures/build.py, built fresh once per test session.

    Built in a subprocess: the builder switches TensorFlow into TF1 mode globally.
    """
    prebuilt = os.environ.get("GRAPHSURGEON_TEST_FIXTURES")
    if prebuilt and (Path(prebuilt) / "encoder_decoder").is_dir():
        return Path(prebuilt)  # a developer's prebuilt `python fixtures/build.py DIR`, to skip the rebuild
    checkout = REPO / "fixtures" / "generated"
    if _stamp_of(checkout) == _fixture_stamp():
        return checkout  # `python fixtures/build.py` ran on these very scripts and versions (CI's Quick start)
    out = tmp_path_factory.mktemp("generated")
    built = subprocess.run([sys.executable, str(REPO / "fixtures" / "build.py"), str(out)], capture_output=True,
                           text=True)
    if built.returncode != 0:
        pytest.fail(f"fixtures/build.py failed:\n{built.stderr[-4000:]}", pytrace=False)
    return out


def _stamp_of(built: Path) -> str | None:
    path = built / ".stamp"
    return path.read_text() if path.is_file() else None


def _fixture_stamp() -> str:
    spec = importlib.util.spec_from_file_location("fixture_stamp", REPO / "fixtures" / "stamp.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.stamp()


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


@pytest.fixture(autouse=True)
def _every_export_loads_in_the_cpp_loader(tmp_path):
    """After each test, every published version folder it wrote must load in TensorFlow's C++ loader
    (the one Serving runs), in a process that never imports tensorflow. Tests that run signatures
    check numbers too; this catches exports that were only inspected."""
    yield
    from graphsurgeon.loaders.graphdef import parse_proto
    from graphsurgeon.verify.cpp_loader import run_in_cpp_loader

    for proto in sorted(tmp_path.rglob("saved_model.pb")):
        folder = proto.parent
        if not folder.name.isdigit() or ".graphsurgeon-tmp-" in str(folder):
            continue
        saved_model = parse_proto(proto, pb.saved_model_pb2.SavedModel(), "SavedModel")
        for meta in saved_model.meta_graphs:
            run_in_cpp_loader(folder, list(meta.meta_info_def.tags), [])
