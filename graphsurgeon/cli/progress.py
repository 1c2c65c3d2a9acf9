"""A progress bar for weight I/O that appears only when the work takes more than about a second."""
from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TimeRemainingColumn, TransferSpeedColumn

DELAY_SECONDS = 1.0


class DelayedProgress:
    """A progress callback (done, total bytes) for the library; draws on stderr, never on stdout."""

    def __init__(self, description: str, delay: float = DELAY_SECONDS, console: Console | None = None):
        self.description, self.delay = description, delay
        self.console = console or Console(stderr=True)
        self.started = time.monotonic()
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            # Not on a terminal (stderr piped or captured): a bar cannot redraw, and a stopped one leaves a blank line.
            if time.monotonic() - self.started < self.delay or done >= total or not self.console.is_terminal:
                return
            self.bar = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                                TransferSpeedColumn(), TimeRemainingColumn(), console=self.console,
                                transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=total)
        if self.task is not None:
            self.bar.update(self.task, completed=done, total=total)

    def __enter__(self) -> "DelayedProgress":
        return self

    def __exit__(self, *_exc_info: object) -> None:
        if self.bar is not None:
            self.bar.stop()
