"""fixtures/build.py: a failing child script shows its own error, and a good build prints one clean line."""
from __future__ import annotations

import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUN_KERAS_BUILDER_ONLY = """
import runpy, sys
from pathlib import Path
g = runpy.run_path(sys.argv[1], run_name="build")
g["BUILDERS"].clear()
g["BUILDERS"]["keras"] = g["build_keras"]
try:
    g["build_all"](Path(sys.argv[2]))
except g["ChildFailed"] as err:
    sys.exit(f"fixtures/build.py: {err}")
"""


@pytest.mark.slow
def test_a_failing_child_shows_its_error_not_a_bare_called_process_error(tmp_path):
    for script in (REPO / "fixtures").glob("*.py"):  # build.py imports some of its siblings
        shutil.copy(script, tmp_path / script.name)
    (tmp_path / "keras_models.py").write_text(
        "raise TypeError('randint() got a float bound (as tf_keras 2.18 on Python 3.12)')\n")
    result = subprocess.run([sys.executable, "-c", RUN_KERAS_BUILDER_ONLY, str(tmp_path / "build.py"),
                             str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 1
    assert "fixtures/keras_models.py exited with 1" in result.stderr
    assert "TypeError: randint() got a float bound" in result.stderr
    assert "CalledProcessError" not in result.stderr
    assert "cuInit" not in result.stderr and "deprecated" not in result.stderr  # TF's noise held back


def test_the_stamp_changes_with_a_builder_script(tmp_path):
    # tests/conftest.py reuses fixtures/generated only when its stamp is the checkout's own
    for script in (REPO / "fixtures").glob("*.py"):
        shutil.copy(script, tmp_path / script.name)
    stamp = runpy.run_path(str(tmp_path / "stamp.py"))["stamp"]
    before = stamp()
    assert stamp() == before  # the same scripts and versions: the same stamp
    with (tmp_path / "keras_models.py").open("a") as f:
        f.write("\n# edited\n")
    assert stamp() != before
