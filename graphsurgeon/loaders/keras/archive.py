""".keras archives (Keras 3, and tf.keras 2.13-2.15): a zip of config.json, metadata.json, model.weights.h5.

Read with zipfile and the bounded HDF5 reader (formats/hdf5.py) alone. The
weights member is opened in place: when it is stored uncompressed (what Keras
writes), h5py reads a window of the archive file at the member's offset, so a
dataset's bytes are read only when asked for and nothing is extracted. A
compressed member is streamed through zipfile instead.

tf.keras written on Windows names HDF5 groups with backslashes
(``layers\\dense/vars/0``); every path here is normalised to ``/``.
"""
from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from graphsurgeon.errors import LoadError
from graphsurgeon.formats.hdf5 import HDF5File

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
# What zipfile raises for a damaged archive besides BadZipFile: bad offsets (OSError, ValueError), a member
# that ends early (EOFError), a corrupt deflate stream (zlib.error), an unknown compression method
# (NotImplementedError) or an encrypted member (RuntimeError).
ZIP_ERRORS = (OSError, EOFError, ValueError, zlib.error, NotImplementedError, RuntimeError, zipfile.BadZipFile,
              zipfile.LargeZipFile)
ASSETS_PREFIX = "assets/"


class ArchiveH5Source:
    """Reads one dataset of the archive's weights file per call, through the bounded HDF5 reader."""

    def __init__(self, path: str):
        self.file = HDF5File(path, WEIGHTS)

    def read(self, key: str) -> np.ndarray:
        """``key`` is the dataset's name in the file, as written (backslashes kept)."""
        return self.file.read(key)


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
        except ZIP_ERRORS as err:
            raise _damaged(path, err) from err
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
        try:
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(name)
        except ZIP_ERRORS as err:
            raise _damaged(self.path, err, name) from err

    def datasets(self) -> list[tuple[str, str, np.dtype, tuple[int, ...]]]:
        """(normalised key, name in the file, dtype, shape) of every dataset, in file order; reads no values."""
        listing = HDF5File(self.path, WEIGHTS).listing()
        return [(normalised(name), name, d.dtype, d.shape) for name, d in listing.datasets.items()]


def _json(archive: zipfile.ZipFile, name: str, path: Path) -> dict:
    try:
        parsed = json.loads(archive.read(name))
    except KeyError as err:
        raise LoadError(f"{path} has no {name}; it is not a Keras model archive") from err
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise LoadError(f"{path}: {name} is not valid JSON ({type(err).__name__}); the archive is damaged") from err
    except ZIP_ERRORS as err:
        raise _damaged(path, err, name) from err
    if not isinstance(parsed, dict):
        raise LoadError(f"{path}: {name} is not a JSON object; the archive is damaged")
    return parsed


def _damaged(path: Path, err: Exception, member: str = "") -> LoadError:
    where = f" ({member})" if member else ""
    return LoadError(f"{path} is a damaged zip archive{where}: {type(err).__name__}: {err}; re-save the model or "
                     "copy it again")
