"""Lazy weights: what a tensor is (dtype, shape, bytes) without reading it.

A WeightStore maps a key (a checkpoint tensor name) to WeightInfo. Bytes are
read only through ``read``, which the writers call once per tensor they write.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from graphsurgeon.errors import CorruptCheckpointError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.region import Region
from graphsurgeon.tf import runtime


@dataclass(frozen=True)
class WeightInfo:
    key: str
    dtype: int  # TensorFlow DataType enum
    shape: tuple[int, ...]
    nbytes: int

    @property
    def dtype_name(self) -> str:
        return dt.name_of(self.dtype)


def numeric_nbytes(dtype: int, shape: tuple[int, ...]) -> int:
    """Bytes of a fixed-width tensor; 0 for string and other variable-width types."""
    return dt.itemsize(dtype) * math.prod(shape)


CHUNK_BYTES = 64 * 2**20  # what a streamed copy holds in memory at once


class WeightSource(Protocol):
    def read(self, key: str) -> np.ndarray: ...


def array_chunks(array: np.ndarray, size: int = CHUNK_BYTES) -> Iterator[memoryview]:
    """A numeric array's little-endian bytes in slices, without copying the array."""
    flat = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).data.cast("B")
    for start in range(0, len(flat), size):
        yield flat[start:start + size]


class CheckpointSource:
    """Tensors of a checkpoint TensorFlow's own reader opens (V1, or V2 with partitioned tensors)."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self._reader = None
        self._lock = threading.Lock()

    def reader(self) -> Any:
        with self._lock:
            if self._reader is None:
                self._reader = runtime.checkpoint_reader(self.pattern)
            return self._reader

    def read(self, key: str) -> np.ndarray:
        """TensorFlow's reader checks each tensor's checksum and size; its failure becomes one line."""
        try:
            return self.reader().get_tensor(key)
        except runtime.checkpoint_read_error() as err:
            message = str(getattr(err, "message", err)).strip()
            first = message.splitlines()[0] if message else type(err).__name__
            raise CorruptCheckpointError(
                f"checkpoint tensor {key!r} in {self.pattern} cannot be read: {first}; "
                "restore the checkpoint from a good copy") from err


class TensorBundle(Protocol):
    """What BundleSource reads through: loaders.bundle.Bundle, a layer above this one."""

    def read(self, key: str) -> np.ndarray: ...
    def read_region(self, key: str, region: Region) -> np.ndarray: ...
    def shape(self, key: str) -> tuple[int, ...]: ...
    def whole_entry(self, key: str, region: Region) -> Any: ...
    def stream(self, key: str, entry: Any, size: int = CHUNK_BYTES) -> Iterator[bytes]: ...


class BundleSource:
    """Tensors of a V2 checkpoint, read straight from its data files (no tensorflow import)."""

    def __init__(self, bundle: TensorBundle):
        self.bundle = bundle

    def read(self, key: str) -> np.ndarray:
        return self.bundle.read(key)

    def read_region(self, key: str, region: Region) -> np.ndarray:
        return self.bundle.read_region(key, region)

    def chunks(self, key: str, size: int = CHUNK_BYTES) -> Iterator[bytes | memoryview]:
        """The tensor's bytes straight from its data file: a tensor larger than memory streams."""
        return self.region_chunks(key, Region.whole(self.bundle.shape(key)), size)

    def region_chunks(self, key: str, region: Region, size: int = CHUNK_BYTES) -> Iterator[bytes | memoryview]:
        """A box's bytes, streamed when one entry holds exactly it (a whole tensor or one saved slice);
        else copied together from the slices that overlap it."""
        entry = self.bundle.whole_entry(key, region)
        if entry is None:
            return array_chunks(self.bundle.read_region(key, region))
        return self.bundle.stream(key, entry, size)  # checksummed as it streams


class ArraySource:
    """Tensors already in memory, such as values computed by initializers."""

    def __init__(self, arrays: Mapping[str, np.ndarray]):
        self._arrays = dict(arrays)

    def read(self, key: str) -> np.ndarray:
        return self._arrays[key]


class CastSource:
    """Another source's tensors converted to a wider dtype of the same kind, chunk by chunk."""

    def __init__(self, source: WeightSource, stored: np.dtype, wanted: np.dtype):
        self.source, self.stored, self.wanted = source, stored, wanted

    def read(self, key: str) -> np.ndarray:
        return self.source.read(key).astype(self.wanted)

    def chunks(self, key: str) -> Iterator[bytes]:
        pieces = self.source.chunks(key) if hasattr(self.source, "chunks") else array_chunks(self.source.read(key))
        for piece in pieces:  # chunk sizes are multiples of every itemsize, so no element straddles two
            yield np.frombuffer(piece, self.stored.newbyteorder("<")).astype(self.wanted.newbyteorder("<")).tobytes()


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
        """The tensor's bytes. This and chunks() are the only places weights are read."""
        info, source = self._entries[key]
        return source.read(info.key)

    def chunks(self, key: str) -> Iterator[memoryview | bytes]:
        """A numeric tensor's bytes in bounded pieces, streamed from disk where the source allows."""
        info, source = self._entries[key]
        if hasattr(source, "chunks"):
            return source.chunks(info.key)
        return array_chunks(source.read(info.key))

    def source(self, key: str) -> WeightSource:
        """What reads ``key``'s bytes (a part of a partitioned variable reads a region through it)."""
        return self._entries[key][1]

    def cast(self, key: str, dtype: int) -> "WeightStore":
        """A store where ``key`` reads as ``dtype``; only for lossless widening (see dtypes.widens)."""
        info, source = self._entries[key]
        shape = info.shape
        cast = CastSource(source, dt.numpy_of(info.dtype), dt.numpy_of(dtype))
        return WeightStore({**self._entries, key: (WeightInfo(info.key, dtype, shape, numeric_nbytes(dtype, shape)), cast)})

    def check_all(self) -> None:
        """Read every tensor once, in bounded chunks, so its source checks it (checksum, size)."""
        for key in self:
            for _ in self.chunks(key) if dt.itemsize(self[key].dtype) else [self.read(key)]:
                pass

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
