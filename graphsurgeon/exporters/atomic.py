"""Publishing files so that a reader never sees a half-written one."""
from __future__ import annotations

import contextlib
import errno
import glob
import os
from collections.abc import Iterator
from pathlib import Path

from graphsurgeon.errors import OutputExistsError, WriteError


def check_target(path: Path, force: bool) -> None:
    """Fail before any work if ``path`` cannot be (over)written."""
    if not path.name or path.is_dir():
        raise WriteError(f"{str(path)!r} names a directory, not a file (it is a directory or an empty name); "
                         "give an output file name such as model.pb")
    if path.exists() and not force:
        raise OutputExistsError(f"{path} already exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise WriteError(f"cannot write {path}: directory {path.parent} does not exist; create it first")
    if not os.access(path.parent, os.W_OK):
        raise WriteError(f"cannot write {path}: directory {path.parent} is not writable")


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: Path, force: bool = False) -> Iterator[Path]:
    """Yield a hidden temp path beside ``path``; on success fsync and rename it into place."""
    check_target(path, force)
    remove_stale_temps(path)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if path.exists() and not force:
            raise OutputExistsError(f"{path} appeared while writing; pass --force to overwrite it")
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as err:
        raise WriteError(f"cannot write {path}: {_describe(err)}") from err
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def remove_stale_temps(path: Path) -> None:
    """Temp files of earlier writes of ``path`` whose process was killed (.NAME.tmp-PID, PID gone)."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.tmp-*"):
        pid = tmp.name.rpartition(".tmp-")[2]
        if pid.isdigit() and not process_alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _describe(err: OSError) -> str:
    if err.errno == errno.ENOSPC:
        return "no space left on device; free space or choose another directory"
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (read-only or not writable); choose another directory"
    return err.strerror or str(err)
