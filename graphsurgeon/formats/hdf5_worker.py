"""The child process that does every HDF5 read graphsurgeon makes (see hdf5.py, which starts and times it).

Runs as a script (``python -I hdf5_worker.py``) and imports only the standard
library, numpy and h5py: never graphsurgeon, never anything a file names. It
answers requests read from stdin, one at a time, on stdout. Each frame is an
8-byte big-endian length and its bytes. A request is one pickle frame,
``(op, path, member, key)``. An answer is a pickle frame, ``("ok", value)`` or
``("error", kind, text)`` where ``kind`` is "open" (not an HDF5 file) or "read"
(a damaged one); then the count of out-of-band buffers (pickle protocol 5: the
arrays' bytes, written uncopied) and a frame for each. Values are plain data
(str, bytes, numbers, lists, dicts, numeric numpy arrays), which the parent
unpickles with an allow-list.

``member`` names a file inside a zip archive (a .keras archive's
model.weights.h5): a stored member is read in place through a window onto
the archive; a compressed one is streamed through zipfile.
"""
from __future__ import annotations

import io
import pickle
import signal
import struct
import sys
import zipfile
from collections.abc import Callable
from typing import Any, BinaryIO

FRAME = struct.Struct(">Q")
_LOCAL_HEADER = struct.Struct("<4s5H3I2H")  # the 30-byte zip local file header


class MemberWindow(io.RawIOBase):
    """A read-only, seekable view of ``size`` bytes at ``start`` of an open file."""

    def __init__(self, raw: Any, start: int, size: int):
        super().__init__()
        self._raw, self._start, self._size, self._pos = raw, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), max(0, self._size - self._pos))
        self._raw.seek(self._start + self._pos)
        count = self._raw.readinto(memoryview(buffer)[:wanted])
        self._pos += count
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


def _data_offset(raw: Any, info: zipfile.ZipInfo) -> int:
    raw.seek(info.header_offset)
    fields = _LOCAL_HEADER.unpack(raw.read(_LOCAL_HEADER.size))
    name_length, extra_length = fields[-2], fields[-1]
    return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length


def open_member(path: str, name: str) -> Any:
    """A seekable file object over one member: a window of the archive if stored, else zipfile's stream."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    if info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 0x1:
        raw = open(path, "rb")  # noqa: SIM115 - the window owns and closes it
        return MemberWindow(raw, _data_offset(raw, info), info.file_size)
    archive = zipfile.ZipFile(path)
    return archive.open(name)


# ---------------------------------------------------------------- the requests

def _open(path: str, member: str | None) -> tuple[Any, Any]:
    """(h5py.File, the member's file object or None); an "open" error if it is not an HDF5 file."""
    import h5py

    handle = open_member(path, member) if member is not None else None
    try:
        return h5py.File(handle if handle is not None else path, "r"), handle
    except Exception:
        if handle is not None:
            handle.close()
        raise


def _plain(value: Any) -> Any:
    """An attribute's value as plain data the parent's allow-list unpickles; TypeError for anything else."""
    import numpy as np

    if isinstance(value, (str, bytes, bool, int, float)):
        return value
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, np.ndarray) and value.dtype.kind in "OSU":
        return [_plain(v) for v in value.ravel().tolist()]
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.dtype.fields is None:
        return np.ascontiguousarray(value)
    raise TypeError(f"an attribute of type {type(value).__name__} is not plain data")


def _attrs(item: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """An object's attributes, and for each one that cannot be read, why."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in item.attrs.keys():
        try:
            values[name] = _plain(item.attrs[name])
        except Exception as err:  # noqa: BLE001 - a damaged attribute is reported, not fatal, until it is used
            errors[name] = f"{type(err).__name__}: {_first_line(err)}"
    return values, errors


def listing(f: Any, _key: str | None = None) -> dict[str, Any]:
    """Every group (with its attributes) and every dataset (dtype, shape) of an open file, by path ("" = root)."""
    import h5py

    found: dict[str, Any] = {"groups": {}, "datasets": {}, "broken": {}}
    found["groups"][""] = _attrs(f)
    names: list[str] = []
    f.visit(names.append)
    for name in names:
        if isinstance(name, bytes):  # h5py hands a name that is not UTF-8 over as bytes: no path can reach it
            found["broken"][name.decode("utf-8", "backslashreplace")] = "its name is not UTF-8"
            continue
        try:
            item = f[name]
            if isinstance(item, h5py.Group):
                found["groups"][name] = _attrs(item)
            elif isinstance(item, h5py.Dataset):
                found["datasets"][name] = (item.dtype.str, tuple(int(d) for d in item.shape))
        except Exception as err:  # noqa: BLE001 - one damaged object; the loader decides if it matters
            found["broken"][name] = f"{type(err).__name__}: {_first_line(err)}"
    return found


def read(f: Any, key: str | None) -> Any:
    import numpy as np

    return np.asarray(f[key][()])


def read_everything(f: Any, _key: str | None = None) -> None:
    """Every attribute and every dataset's values, discarded: what a reader of the whole file (Keras) touches."""
    import h5py

    def touch(_: str, item: Any) -> None:
        for name in item.attrs.keys():
            item.attrs[name]
        if isinstance(item, h5py.Dataset):
            item[()]

    touch("", f)
    f.visititems(touch)


OPERATIONS: dict[str, Callable[[Any, str | None], Any]] = {
    "listing": listing, "read": read, "read_everything": read_everything}


def _answer(op: str, path: str, member: str | None, key: str | None) -> tuple:
    try:
        f, handle = _open(path, member)
    except Exception as err:  # noqa: BLE001 - whatever h5py or zipfile raise: not an HDF5 file
        return ("error", "open", f"{type(err).__name__}: {_first_line(err)}")
    try:
        with f:
            return ("ok", OPERATIONS[op](f, key))
    except Exception as err:  # noqa: BLE001 - h5py raises many types for a damaged file
        return ("error", "read", f"{type(err).__name__}: {_first_line(err)}")
    finally:
        if handle is not None:
            handle.close()


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def _read_exactly(stream: BinaryIO, count: int) -> bytes | None:
    data = b""
    while len(data) < count:
        chunk = stream.read(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when this process ends
    import h5py  # noqa: F401 - imported before "ready", so start-up is not counted against a request
    import numpy  # noqa: F401

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    _send(stdout, ("ok", "ready"))
    while True:
        header = _read_exactly(stdin, FRAME.size)
        if header is None:
            return 0  # the parent closed the pipe: it is done
        body = _read_exactly(stdin, FRAME.unpack(header)[0])
        if body is None:
            return 0
        _send(stdout, _answer(*pickle.loads(body)))


def _send(stdout: BinaryIO, answer: tuple) -> None:
    """The pickle, then the arrays' bytes out of band (protocol 5): a large dataset is written once, uncopied."""
    buffers: list[pickle.PickleBuffer] = []
    body = pickle.dumps(answer, protocol=5, buffer_callback=buffers.append)
    stdout.write(FRAME.pack(len(body)))
    stdout.write(body)
    stdout.write(FRAME.pack(len(buffers)))
    for buffer in buffers:
        raw = buffer.raw()
        stdout.write(FRAME.pack(raw.nbytes))
        stdout.write(raw)
    stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
