""".keras archives (Keras 3, and tf.keras 2.13-2.15): a zip of config.json, metadata.json, model.weights.h5.

Read with zipfile and h5py alone. The weights member is opened in place: when
it is stored uncompressed (what Keras writes), h5py reads a window of the
archive file at the member's offset, so a dataset's bytes are read only when
asked for and nothing is extracted. A compressed member is streamed through
zipfile instead.

tf.keras written on Windows names HDF5 groups with backslashes
(``layers\\dense/vars/0``); every path here is normalised to ``/``.
"""
from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from graphsurgeon.errors import LoadError

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
ASSETS_PREFIX = "assets/"
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


class ArchiveH5Source:
    """Reads one dataset of the archive's weights file per call, opening the member only then."""

    def __init__(self, path: str):
        self.path = path

    def read(self, key: str) -> np.ndarray:
        """``key`` is the dataset's name in the file, as written (backslashes kept)."""
        with open_member(self.path, WEIGHTS) as member, h5py.File(member, "r") as f:
            return f[key][()]


def normalised(name: str) -> str:
    return name.replace("\\", "/").strip("/")


class KerasArchive:
    """What a .keras file holds, read without deserializing anything."""

    def __init__(self, path: Path):
        self.path = path
        try:
            with zipfile.ZipFile(path) as archive:
                self.names = archive.namelist()
                self.config = _json(archive, CONFIG, path)
                self.metadata = _json(archive, METADATA, path) if METADATA in self.names else {}
        except zipfile.BadZipFile as err:
            raise LoadError(f"{path} is not a zip archive ({err}); a .keras file is the zip model.save() "
                            "writes; it may be truncated") from err
        if WEIGHTS not in self.names:
            raise LoadError(f"{path} has no {WEIGHTS}; only archives with HDF5 weights are read "
                            f"(it holds {', '.join(sorted(self.names))})")

    @property
    def keras_version(self) -> str:
        return str(self.metadata.get("keras_version", "unknown"))

    @property
    def asset_files(self) -> list[str]:
        return sorted(n for n in self.names if n.startswith(ASSETS_PREFIX) and not n.endswith("/"))

    def read_member(self, name: str) -> bytes:
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(name)

    def datasets(self) -> list[tuple[str, str, np.dtype, tuple[int, ...]]]:
        """(normalised key, name in the file, dtype, shape) of every dataset, in file order; reads no values."""
        found: list[tuple[str, str, np.dtype, tuple[int, ...]]] = []

        def visit(name: str, item: Any) -> None:
            if isinstance(item, h5py.Dataset):
                found.append((normalised(name), name, item.dtype, tuple(int(d) for d in item.shape)))

        try:
            with open_member(str(self.path), WEIGHTS) as member, h5py.File(member, "r") as f:
                f.visititems(visit)
        except OSError as err:
            raise LoadError(f"{self.path}: {WEIGHTS} is not a readable HDF5 file ({err}); the archive is damaged") \
                from err
        return found


def _json(archive: zipfile.ZipFile, name: str, path: Path) -> dict:
    try:
        return json.loads(archive.read(name))
    except KeyError as err:
        raise LoadError(f"{path} has no {name}; it is not a Keras model archive") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise LoadError(f"{path}: {name} is not valid JSON ({err}); the archive is damaged") from err
