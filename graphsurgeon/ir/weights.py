"""Lazy weights: what a tensor is (dtype, shape, bytes) without reading it.

A WeightStore maps a key (a checkpoint tensor name) to WeightInfo. Bytes are
read only through ``read``, which the writers call once per tensor they write.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from graphsurgeon import _tf


@dataclass(frozen=True)
class WeightInfo:
    key: str
    dtype: int  # TensorFlow DataType enum
    shape: tuple[int, ...]
    nbytes: int

    @property
    def dtype_name(self) -> str:
        return _tf.dtype_name(self.dtype)


def numeric_nbytes(dtype: int, shape: tuple[int, ...]) -> int:
    """Bytes of a fixed-width tensor; 0 for string and other variable-width types."""
    return _tf.itemsize(dtype) * math.prod(shape)


class WeightSource(Protocol):
    def read(self, key: str) -> np.ndarray: ...


class CheckpointSource:
    """Tensors of a checkpoint TensorFlow's own reader opens (V1, or V2 with partitioned tensors)."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self._reader = None
        self._lock = threading.Lock()

    def reader(self):
        with self._lock:
            if self._reader is None:
                self._reader = _tf.checkpoint_reader(self.pattern)
            return self._reader

    def read(self, key: str) -> np.ndarray:
        return self.reader().get_tensor(key)


class BundleSource:
    """Tensors of a V2 checkpoint, read straight from its data files (no tensorflow import)."""

    def __init__(self, bundle):
        self.bundle = bundle

    def read(self, key: str) -> np.ndarray:
        return self.bundle.read(key)


class ArraySource:
    """Tensors already in memory, such as values computed by initializers."""

    def __init__(self, arrays: Mapping[str, np.ndarray]):
        self._arrays = dict(arrays)

    def read(self, key: str) -> np.ndarray:
        return self._arrays[key]


class WeightStore(Mapping[str, WeightInfo]):
    """Key -> WeightInfo, each backed by the source that can read its bytes."""

    def __init__(self, entries: Mapping[str, tuple[WeightInfo, WeightSource]] | None = None):
        self._entries = dict(entries or {})

    def __getitem__(self, key: str) -> WeightInfo:
        return self._entries[key][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def read(self, key: str) -> np.ndarray:
        """The tensor's bytes. This is the only place weights are read."""
        info, source = self._entries[key]
        return source.read(info.key)

    def merged(self, other: "WeightStore") -> "WeightStore":
        """A store with ``other``'s entries added (they win on equal keys)."""
        return WeightStore({**self._entries, **other._entries})

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], dtypes: Mapping[str, int]) -> "WeightStore":
        source = ArraySource(arrays)
        return cls({
            key: (WeightInfo(key, dtypes[key], tuple(a.shape), int(a.nbytes)), source)
            for key, a in arrays.items()
        })
