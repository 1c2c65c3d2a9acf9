"""The README's Quick start commands, the one place they are read from (.ci/run, bench/compat.sh, the tests).

    python tools/readme_commands.py    # prints them, one a line: the setup command, then the test command
"""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def section(title: str) -> str:
    """The body of the README's `## title` section."""
    return README.read_text().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def quick_start_commands() -> list[str]:
    """Quick start's ```sh blocks: the setup-and-main-job command and the test command."""
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section("Quick start"), re.S)]


if __name__ == "__main__":
    print("\n".join(quick_start_commands()))
