"""Sample arrays from .npz files (numpy.savez): --warmup requests and verify's feeds."""
from __future__ import annotations

import pickle
import zipfile

import numpy as np

from graphsurgeon.errors import UsageError


def read_npz(path: str, option: str) -> dict[str, np.ndarray]:
    """The arrays in ``path`` by key, never unpickled: a pickle in the file could run code.

    String inputs are therefore unicode or bytes arrays (np.array(["a"]), dtype=bytes); they are returned
    as object arrays of UTF-8 bytes, TensorFlow's string representation.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive")
            return {key: _strings_as_bytes(data[key]) for key in data.files}
    except ValueError as err:
        if str(err).startswith("Object arrays"):
            raise UsageError(f"cannot read {option} {path}: it holds object arrays, which are read only by "
                             "unpickling (that could run code); save strings as unicode or bytes arrays, e.g. "
                             "np.savez(f, images=np.array([b'...'], dtype=bytes))") from err
        raise UsageError(f"cannot read {option} {path}: {err}; give an .npz file written by numpy.savez") from err
    except (OSError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise UsageError(f"cannot read {option} {path}: {err}; give an .npz file written by numpy.savez") from err


def _strings_as_bytes(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "U":
        if not array.size:
            return array.astype(object)
        return np.vectorize(lambda s: s.encode("utf-8"), otypes=[object])(array)
    if array.dtype.kind == "S":
        return array.astype(object)
    return array
