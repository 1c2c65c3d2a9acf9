"""Every HDF5 read (Keras .h5 files, a .keras archive's model.weights.h5), done in a child process under a time bound.

On a damaged file the HDF5 library can loop forever (reading one attribute of
fuzz-repro/60a9724a4f.h5 never returns) or crash, inside C code that holds the
GIL: no signal or thread can stop it in this process. So graphsurgeon never
calls h5py itself. hdf5_worker.py, a child that imports only h5py and numpy,
makes every read; this module sends it requests and waits for each answer at
most ``READ_SECONDS`` (plus the time a dataset's size may honestly take). A
request that overruns, or a child that dies, is a LoadError naming the file;
the child is killed and the next request starts a new one.

A file is known by its ``Listing``: every group with its attributes and
every dataset's dtype and shape, read in one request and kept while the file
is unchanged. Dataset values are read one request each, when asked for.
"""
from __future__ import annotations

import atexit
import contextlib
import io
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from graphsurgeon.errors import LoadError
from graphsurgeon.formats.hdf5_worker import FRAME

WORKER = Path(__file__).with_name("hdf5_worker.py")
START_SECONDS = 120.0  # the child's start (Python, numpy, h5py) on a loaded machine; no file is read yet
READ_SECONDS = 10.0  # a request on an honest file takes milliseconds; a damaged one may loop forever
BYTES_PER_SECOND = 8 * 2**20  # a dataset read may take longer by its size at this rate (a slow disk, a busy machine)
REFETCH = "it may be truncated or corrupted: re-save or re-download it"
DAMAGED = "the file is damaged: re-save or re-download it"
# What the parent unpickles from the child: plain data and numpy arrays, nothing else (numpy 1.x and 2.x names).
_ALLOWED = {(m, n) for base in ("numpy.core", "numpy._core")
            for m, n in ((f"{base}.multiarray", "_reconstruct"), (f"{base}.multiarray", "scalar"),
                         (f"{base}.numeric", "_frombuffer"))} | {("numpy", "dtype"), ("numpy", "ndarray")}


class HDF5TimeoutError(LoadError):
    """The HDF5 library did not finish a read of a damaged file in time."""


@dataclass(frozen=True)
class Dataset:
    dtype: np.dtype
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


class Listing:
    """What one HDF5 file holds, without any dataset's values. Paths are relative to the root ("" is the root)."""

    def __init__(self, where: str, raw: Mapping[str, Any]):
        self.where = where
        self._groups: dict[str, tuple[dict[str, Any], dict[str, str]]] = dict(raw["groups"])
        self.datasets = {name: Dataset(np.dtype(dtype), tuple(shape)) for name, (dtype, shape) in raw["datasets"].items()}
        self.broken: dict[str, str] = dict(raw["broken"])

    def is_group(self, path: str) -> bool:
        return path.strip("/") in self._groups

    def attr(self, group: str, name: str, default: Any = None) -> Any:
        """An attribute of a group (``default`` when absent); a LoadError when it is there but unreadable."""
        values, errors = self._groups.get(group.strip("/"), ({}, {}))
        if name in errors:
            raise LoadError(f"{self.where} is a damaged HDF5 file (attribute {name!r} of "
                            f"/{group.strip('/')}: {errors[name]}); {REFETCH}")
        return values.get(name, default)

    def dataset(self, path: str) -> Dataset | None:
        """The dataset at ``path``; a LoadError when an object is there but cannot be read, None when nothing is."""
        path = path.strip("/")
        if path in self.broken:
            raise LoadError(f"{self.where} is a damaged HDF5 file (/{path}: {self.broken[path]}); {REFETCH}")
        return self.datasets.get(path)


def join(*parts: str) -> str:
    """HDF5 path parts joined, without leading or trailing slashes."""
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


class HDF5File:
    """One HDF5 file on disk, or the ``member`` of a zip archive at ``path``; every read goes to the worker."""

    def __init__(self, path: str | os.PathLike, member: str | None = None):
        self.path = str(path)
        self.member = member

    @property
    def where(self) -> str:
        return self.path if self.member is None else f"{self.path}: {self.member}"

    def listing(self) -> Listing:
        key = (self.path, self.member, _stamp(self.path))
        if key not in _LISTINGS:
            if len(_LISTINGS) >= 8:
                _LISTINGS.clear()
            _LISTINGS[key] = Listing(self.where, _WORKER.ask("listing", self, None, READ_SECONDS))
        return _LISTINGS[key]

    def read(self, key: str) -> np.ndarray:
        """A dataset's values, given its path; its size (from the listing) extends the time bound."""
        dataset = self.listing().dataset(key)
        nbytes = dataset.nbytes if dataset is not None else 0
        return _WORKER.ask("read", self, key, READ_SECONDS + nbytes / BYTES_PER_SECOND)

    def read_everything(self) -> None:
        """Read every attribute and dataset once, so a library that reads the file itself (Keras) meets nothing
        the bounded reader has not already read in time."""
        total = sum(d.nbytes for d in self.listing().datasets.values())
        _WORKER.ask("read_everything", self, None, READ_SECONDS + total / BYTES_PER_SECOND)


# Listings by (path, member, inode/size/mtime): a loader asks for a file's several times; a changed file is listed again.
_LISTINGS: dict[tuple, Listing] = {}


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


class _Worker:
    """The child process, started on first use; requests are serialised (HDF5 is single-threaded anyway)."""

    def __init__(self) -> None:
        self._child: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.requests: deque[tuple[str, str, str | None, str | None]] = deque(maxlen=1000)  # for tests

    def ask(self, op: str, file: HDF5File, key: str | None, seconds: float) -> Any:
        with self._lock:
            self.requests.append((op, file.path, file.member, key))
            try:
                child = self._started(file)
                _send(child, pickle.dumps((op, file.path, file.member, key)))
                answer = _receive(child, seconds, file, op, key)
            except BaseException:
                self.stop()  # its state is unknown: a timeout, a crash, or an interrupt (a test's alarm) mid-request
                raise
        if answer[0] == "ok":
            return answer[1]
        kind, text = answer[1], answer[2]
        if kind == "open":
            raise LoadError(f"{file.where} is not a readable HDF5 file ({text}); {REFETCH}")
        raise LoadError(f"{file.where} is a damaged HDF5 file ({text}); {REFETCH}")

    def _started(self, file: HDF5File) -> subprocess.Popen:
        if self._child is not None and self._child.poll() is None:
            return self._child
        # -I: isolated, so nothing from graphsurgeon or the working directory is importable in the child.
        self._child = subprocess.Popen([sys.executable, "-I", str(WORKER)], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        _widen(self._child.stdout)
        _receive(self._child, START_SECONDS, file, "start", None)  # "ready", once h5py is imported
        return self._child

    def stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if child.poll() is None:
            child.kill()
        child.wait()
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()


_WORKER = _Worker()
atexit.register(_WORKER.stop)


def _widen(pipe: Any) -> None:
    """A 1 MiB pipe (Linux's default is 64 KiB): a large dataset crosses in fewer reads."""
    with contextlib.suppress(OSError, AttributeError, ValueError):
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 2**20)


def requests() -> list[tuple[str, str, str | None, str | None]]:
    """(op, path, member, key) of every request so far: tests check what was read."""
    return list(_WORKER.requests)


def _send(child: subprocess.Popen, body: bytes) -> None:
    assert child.stdin is not None
    try:
        child.stdin.write(FRAME.pack(len(body)) + body)
        child.stdin.flush()
    except BrokenPipeError:
        pass  # the child died; _receive reports how


def _receive(child: subprocess.Popen, seconds: float, file: HDF5File, op: str, key: str | None) -> Any:
    """One answer (a pickle and its out-of-band buffers), or the LoadError for a child that overran or died."""
    deadline = time.monotonic() + seconds
    body = _frame(child, deadline)
    count = _read_exactly(child, FRAME.size, deadline) if body is not None else None
    buffers = [_frame(child, deadline) for _ in range(FRAME.unpack(count)[0])] if count is not None else [None]
    if body is None or None in buffers:  # after a miss, the rest return at once: past the deadline, or at EOF
        what = _what(op, key)
        raise _died(child, file, what) if child.poll() is not None else _timed_out(file, what, seconds)
    return _Unpickler(io.BytesIO(body), buffers=buffers).load()


def _frame(child: subprocess.Popen, deadline: float) -> bytearray | None:
    """A length-prefixed frame from the child; None at the deadline or at end of file."""
    header = _read_exactly(child, FRAME.size, deadline)
    return _read_exactly(child, FRAME.unpack(header)[0], deadline) if header is not None else None


def _read_exactly(child: subprocess.Popen, count: int, deadline: float) -> bytearray | None:
    """``count`` bytes from the child's stdout, read into one buffer; None at the deadline or at end of file."""
    assert child.stdout is not None
    fd = child.stdout.fileno()
    data = bytearray(count)
    view, done = memoryview(data), 0
    while done < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return None
        read = os.readv(fd, [view[done:]])
        if not read:
            child.wait()
            return None
        done += read
    return data


def _timed_out(file: HDF5File, what: str, seconds: float) -> LoadError:
    if what == "start":
        return LoadError(f"the HDF5 reader process did not start in {START_SECONDS:g} s (reading {file.where}); "
                         "the machine may be overloaded: try again")
    return HDF5TimeoutError(f"{file.where}: the HDF5 library did not finish reading {what} in {seconds:g} s "
                            f"and was stopped; {DAMAGED}")


def _what(op: str, key: str | None) -> str:
    return {"listing": "its groups and attributes", "read": f"dataset /{key}",
            "read_everything": "all of its datasets"}.get(op, op)


def _died(child: subprocess.Popen, file: HDF5File, what: str) -> LoadError:
    code = child.wait()
    how = f"signal {-code}" if code < 0 else f"exit {code}"
    if what == "start":
        return LoadError(f"the HDF5 reader process could not start ({how}); check that h5py imports: "
                         f"{sys.executable} -c 'import h5py'")
    return LoadError(f"{file.where}: the HDF5 library crashed reading {what} ({how}); {DAMAGED}")


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"the HDF5 reader sent {module}.{name}, which is not plain data")
        return super().find_class(module, name)


def _unpickle(body: bytes) -> Any:
    """A pickle the child wrote, unpickled with the allow-list (tests use it directly)."""
    return _Unpickler(io.BytesIO(body)).load()
