"""Sample arrays from .npz files (numpy.savez): --warmup requests and verify's feeds."""
from __future__ import annotations

import pickle
import zipfile

import numpy as np

from graphsurgeon.errors import UsageError


def read_npz(path: str, option: str) -> dict[str, np.ndarray]:
    """The arrays in ``path`` by key; string inputs are object arrays, hence allow_pickle."""
    try:
        with np.load(path, allow_pickle=True) as data:
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive")
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise UsageError(f"cannot read {option} {path}: {err}; give an .npz file written by numpy.savez") from err
