"""Pytest hooks: a session fails when its tests changed the checkout (tests/conftest.py imports them).

Tests work in temporary folders. The hooks take every file under the rootdir that git knows of
(tracked, untracked and ignored) with its mtime and size at the session's start and at its finish,
and name what differs. Python's, pytest's and mypy's own caches are left out.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest

CACHES = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache"})
Files = Dict[str, Optional[Tuple[int, int]]]  # path -> (mtime, size), None for a tracked file missing on disk
_BEFORE = pytest.StashKey[Files]()


def checkout_files(root: Path) -> Files | None:
    """Each file of the git checkout at `root`; None when `root` is not a git checkout."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others"], cwd=root, capture_output=True)
    except FileNotFoundError:  # no git
        return None
    if listed.returncode != 0:
        return None
    files: Files = {}
    for name in filter(None, listed.stdout.decode(errors="surrogateescape").split("\0")):
        if CACHES.isdisjoint(name.split("/")):
            files[name] = _mtime_and_size(root / name)
    return files


def _mtime_and_size(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.lstat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


def changed(before: Files, after: Files) -> list[str]:
    """Files added, removed or written between the two listings."""
    return sorted(name for name in before.keys() | after.keys()
                  if name not in before or name not in after or before[name] != after[name])


def pytest_sessionstart(session: pytest.Session) -> None:
    files = checkout_files(session.config.rootpath)
    if files is not None:
        session.config.stash[_BEFORE] = files


def pytest_sessionfinish(session: pytest.Session) -> None:
    before, after = session.config.stash.get(_BEFORE, None), checkout_files(session.config.rootpath)
    names = changed(before, after) if before is not None and after is not None else []
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"error: the tests changed the checkout (tests work in temporary folders): {shown}",
                                red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
