"""A progress bar for weight I/O that appears only when the work takes more than about a second."""
from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TimeRemainingColumn, TransferSpeedColumn

DELAY_SECONDS = 1.0


class DelayedProgress:
    """A progress callback (done, total bytes) for the library; draws on stderr, never on stdout."""

    def __init__(self, description: str, delay: float = DELAY_SECONDS):
        self.description, self.delay = description, delay
        self.started = time.monotonic()
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < self.delay or done >= total:
                return
            self.bar = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                                TransferSpeedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                                transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=total)
        if self.task is not None:
            self.bar.update(self.task, completed=done, total=total)

    def __enter__(self) -> "DelayedProgress":
        return self

    def __exit__(self, *_exc_info) -> None:
        if self.bar is not None:
            self.bar.stop()
