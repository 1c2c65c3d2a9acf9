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
