"""The weight-writing progress bar: drawn on a terminal only, so piped stderr stays clean."""
from __future__ import annotations

import io

from rich.console import Console

from graphsurgeon.cli.progress import DelayedProgress


def _drawn(terminal: bool) -> str:
    stderr = io.StringIO()
    console = Console(file=stderr, force_terminal=terminal, width=80)
    with DelayedProgress("writing weights", delay=0, console=console) as progress:
        progress(1, 10)
        progress(5, 10)
    return stderr.getvalue()


def test_piped_stderr_gets_no_bar_and_no_blank_line():
    assert _drawn(terminal=False) == ""  # a stopped bar used to leave "\n" before "published ..."


def test_a_terminal_gets_the_bar():
    assert "writing weights" in _drawn(terminal=True)


def test_progress_appears_only_after_the_delay():
    terminal = Console(file=io.StringIO(), force_terminal=True)
    with DelayedProgress("writing", delay=3600, console=terminal) as quick:
        quick(10, 100)
        assert quick.bar is None  # work under the delay draws nothing
    with DelayedProgress("writing", delay=0, console=terminal) as slow:
        slow(10, 100)
        assert slow.bar is not None and slow.bar.tasks[0].completed == 10
