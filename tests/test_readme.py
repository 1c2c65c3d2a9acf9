"""The README's main command runs as written (less its pip install), and .ci/run uses the README's commands."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    quick = (REPO / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", quick, re.S)]


def test_exactly_two_commands_install_then_run():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert all(c.startswith("pip install -e ") for c in commands)


def test_main_job_runs_and_reports(tmp_path):
    steps = [s.strip() for s in quick_start_commands()[0].split("&&")][1:]  # skip the pip install
    result = subprocess.run(" && ".join(steps), shell=True, cwd=REPO, capture_output=True, text=True,
                            env={**__import__("os").environ, "COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    assert "kept " in result.stdout and "removed " in result.stdout and "decoder/" in result.stdout
    assert (REPO / "fixtures" / "generated" / "encoder.pb").is_file()


def test_checkpoint_to_verified_saved_model(tmp_path):
    """The README's two-command path, run as written (in a scratch copy of the output folder)."""
    import os
    import shutil

    section = (REPO / "README.md").read_text().split("## From a checkpoint to TensorFlow Serving", 1)[1]
    commands = re.findall(r"```sh\n(.*?)```", section.split("\n## ", 1)[0], re.S)[0].strip().splitlines()
    assert [c.split()[1] for c in commands] == ["export", "verify"]
    shutil.rmtree(REPO / "serving", ignore_errors=True)
    try:
        for command in commands:
            result = subprocess.run(command, shell=True, cwd=REPO, capture_output=True, text=True,
                                    env={**os.environ, "COLUMNS": "100"})
            assert result.returncode == 0, (command, result.stdout, result.stderr)
        assert "verified" in result.stdout and (REPO / "serving" / "encoder" / "1" / "saved_model.pb").is_file()
    finally:
        shutil.rmtree(REPO / "serving", ignore_errors=True)
