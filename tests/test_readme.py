"""The README runs as written: its Quick start, its serving commands and every ```python block.

Each runs in a copy of the repository in a temporary folder, never in this checkout. .ci/run and
bench/compat.sh read the same Quick start (tools/readme_commands.py).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.readme_commands import quick_start_commands, section

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def python_blocks() -> list[Any]:
    """Every ```python block of the README, with the line its code starts on."""
    text = README.read_text()
    return [pytest.param(text.count("\n", 0, match.start()) + 2, match.group(1), id=f"block{n}")
            for n, match in enumerate(re.finditer(r"```python\n(.*?)```", text, re.S), start=1)]


@pytest.fixture
def repo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout's files (tracked and unignored, as they are on disk) copied to a temporary folder.

    Not under tmp_path: conftest would load every versioned SavedModel of the fixtures in the C++ loader."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True)
    copy = tmp_path_factory.mktemp("repo")
    if listed.returncode != 0:
        pytest.fail(f"the README's tests copy the files `git ls-files` lists: {listed.stderr.decode().strip()}")
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (REPO / name).is_file():  # not a tracked file deleted on disk
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    return copy


@pytest.fixture
def built_copy(repo_copy: Path, generated: Path) -> Path:
    """The copy after the Quick start: the session's fixtures in its fixtures/generated."""
    shutil.copytree(generated, repo_copy / "fixtures" / "generated", symlinks=True)
    return repo_copy


def run(command: list[str] | str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run as a user would in `cwd`, with this interpreter's `python` and `graphsurgeon` first on PATH."""
    env = {**os.environ, "COLUMNS": "100", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(command, shell=isinstance(command, str), cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


def test_quick_start_is_the_install_script_then_two_jobs():
    setup, tests = quick_start_commands()
    assert setup.startswith("python tools/install.py && python fixtures/build.py && graphsurgeon cut ")
    assert tests.startswith("python tools/install.py && ") and "python -m pytest" in tests


def test_main_job_runs_and_reports(repo_copy):
    steps = quick_start_commands()[0].split(" && ")[1:]  # the install script ran before the session
    result = run(" && ".join(steps), repo_copy)
    assert result.returncode == 0, result.stderr
    assert "kept " in result.stdout and "removed " in result.stdout and "decoder/" in result.stdout
    assert (repo_copy / "fixtures" / "generated" / "encoder.pb").is_file()


def test_checkpoint_to_verified_saved_model(built_copy):
    """The README's two-command path from a checkpoint to a verified SavedModel."""
    block = re.findall(r"```sh\n(.*?)```", section("From a checkpoint to TensorFlow Serving"), re.S)[0]
    commands = block.strip().splitlines()
    assert [c.split()[1] for c in commands] == ["export", "verify"]
    for command in commands:
        result = run(command, built_copy)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    assert "verified" in result.stdout and (built_copy / "serving" / "encoder" / "1" / "saved_model.pb").is_file()


@pytest.mark.parametrize(("line", "code"), python_blocks())
def test_python_block_runs(built_copy, tmp_path, line, code):
    """Each block on its own, as a reader pastes it, in a copy where the Quick start has run."""
    script = tmp_path / "block.py"
    script.write_text(code)
    result = run([sys.executable, str(script)], built_copy)
    assert result.returncode == 0, f"README.md line {line}:\n{result.stdout}{result.stderr}"
