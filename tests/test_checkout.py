"""tests/checkout.py: a pytest session that writes into its checkout fails and names what it wrote.

Each case runs pytest on a tiny project of its own, a git checkout in tmp_path with these hooks in its
conftest.py (a file in an ignored folder, like fixtures/generated, counts too)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WRITES_IN_TMP_PATH = "def test_it(tmp_path):\n    (tmp_path / 'out.txt').write_text('x')\n"
WRITES_IN_CHECKOUT = ("from pathlib import Path\n\ndef test_it():\n"
                      "    (Path(__file__).parent / 'generated').mkdir()\n"
                      "    (Path(__file__).parent / 'generated' / 'out.txt').write_text('x')\n")


def run_pytest_in_checkout(project: Path, test: str) -> subprocess.CompletedProcess[str]:
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / ".gitignore").write_text("/generated/\n")
    (project / "conftest.py").write_text("from tests.checkout import pytest_sessionfinish, pytest_sessionstart\n")
    (project / "test_it.py").write_text(test)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "."], cwd=project, check=True)
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project,
                          capture_output=True, text=True, env=env)


def test_a_session_that_writes_only_in_tmp_path_passes(tmp_path):
    result = run_pytest_in_checkout(tmp_path / "project", WRITES_IN_TMP_PATH)
    assert result.returncode == 0, result.stdout
    assert "changed the checkout" not in result.stdout


def test_a_session_that_writes_in_its_checkout_fails_naming_the_file(tmp_path):
    result = run_pytest_in_checkout(tmp_path / "project", WRITES_IN_CHECKOUT)
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout
    assert "error: the tests changed the checkout (tests work in temporary folders): generated/out.txt" \
        in result.stdout
