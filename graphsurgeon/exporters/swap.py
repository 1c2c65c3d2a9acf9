"""Swapping two directories in one step, so a crash never leaves neither in place.

On Linux, renameat2(RENAME_EXCHANGE) exchanges two paths atomically: after
it, the new version is published and the old one sits where the new one was
staged. Where the kernel, the C library or the file system lacks it,
``exchange`` returns False and the caller falls back to two renames, keeping
the old version until the new one is in place.
"""
from __future__ import annotations

import ctypes
import errno
import os
import sys
import time
from pathlib import Path

RENAME_EXCHANGE = 2  # linux/fs.h
AT_FDCWD = -100
UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP})
# Test hooks, read only here: pause at a named step (touching a marker file first), or pretend
# renameat2 is missing, so a test can SIGKILL an export between the steps of a replacement.
PAUSE_ENV = "GRAPHSURGEON_TEST_PAUSE"  # "STEP:MARKER_FILE"
NO_EXCHANGE_ENV = "GRAPHSURGEON_TEST_NO_RENAME_EXCHANGE"


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap ``a`` and ``b`` (both must exist); False where the system cannot."""
    if sys.platform != "linux" or os.environ.get(NO_EXCHANGE_ENV):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:  # glibc before 2.28
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(b))


def pause_for_tests(step: str) -> None:
    """Where GRAPHSURGEON_TEST_PAUSE names ``step``, touch its marker file and wait to be killed."""
    wanted, _, marker = os.environ.get(PAUSE_ENV, "").partition(":")
    if wanted != step:
        return
    Path(marker).touch()
    time.sleep(600)
