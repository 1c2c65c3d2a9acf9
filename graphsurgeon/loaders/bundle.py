"""TensorFlow's V2 checkpoint format (tensor bundles), read without importing tensorflow.

PREFIX.index is a leveldb-format table: key "" holds a BundleHeaderProto, every
other key a tensor's BundleEntryProto (dtype, shape, shard, offset, size).
PREFIX.data-SSSSS-of-NNNNN hold the raw bytes. Reading the index costs
milliseconds; a tensor's bytes are read only when asked for.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from graphsurgeon.dtypes import numpy_of
from graphsurgeon.errors import LoadError
from graphsurgeon.protos import pb

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
STRING = 7


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


class CompressedIndex(Exception):
    """The index uses snappy-compressed blocks (older writers); TensorFlow's reader handles it."""


def _block(data: bytes, handle: bytes, path: Path) -> bytes:
    offset, pos = _varint(handle, 0)
    size, _ = _varint(handle, pos)
    if data[offset + size] != 0:  # the 5-byte trailer starts with the compression type
        raise CompressedIndex(str(path))
    return data[offset:offset + size]


def _entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    (restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * restarts
    pos, key = 0, b""
    while pos < limit:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_size, pos = _varint(block, pos)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        yield key, block[pos:pos + value_size]
        pos += value_size


def read_table(path: Path) -> Iterator[tuple[bytes, bytes]]:
    data = path.read_bytes()
    if len(data) < FOOTER_SIZE or struct.unpack_from("<Q", data, len(data) - 8)[0] != TABLE_MAGIC:
        raise LoadError(f"{path} is not a checkpoint index (bad footer); the file may be truncated")
    footer = data[-FOOTER_SIZE:]
    _, pos = _varint(footer, _varint(footer, 0)[1])  # skip the metaindex handle
    index_handle = footer[pos:]
    for _, handle in _entries(_block(data, index_handle, path)):
        yield from _entries(_block(data, handle, path))


class Bundle:
    """The entries of one V2 checkpoint, and reading a tensor's bytes on request."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        index = Path(prefix + ".index")
        self.header = None
        self.entries = {}
        for key, value in read_table(index):
            if key == b"":
                self.header = pb.tensor_bundle_pb2.BundleHeaderProto.FromString(value)
            else:
                self.entries[key.decode("utf-8")] = pb.tensor_bundle_pb2.BundleEntryProto.FromString(value)
        if self.header is None:
            raise LoadError(f"{index} has no bundle header; it is not a TensorFlow V2 checkpoint index")

    def needs_tensorflow(self) -> bool:
        """Partitioned (sliced) tensors and big-endian bundles are left to TensorFlow's reader."""
        return self.header.endianness != 0 or any(e.slices for e in self.entries.values())

    def shard(self, entry) -> Path:
        return Path(f"{self.prefix}.data-{entry.shard_id:05d}-of-{self.header.num_shards:05d}")

    def read(self, key: str) -> np.ndarray:
        entry = self.entries[key]
        shape = tuple(d.size for d in entry.shape.dim)
        if entry.dtype == STRING:
            return self._strings(entry, shape)
        dtype = numpy_of(entry.dtype)
        count = int(np.prod(shape))
        return np.fromfile(self.shard(entry), dtype=dtype, count=count, offset=entry.offset).reshape(shape)

    def _strings(self, entry, shape) -> np.ndarray:
        with open(self.shard(entry), "rb") as f:
            f.seek(entry.offset)
            raw = f.read(entry.size)
        count, pos, lengths = int(np.prod(shape)), 0, []
        for _ in range(count):
            length, pos = _varint(raw, pos)
            lengths.append(length)
        pos += 4  # masked crc32c of the lengths
        values = []
        for length in lengths:
            values.append(raw[pos:pos + length])
            pos += length
        return np.array(values, dtype=object).reshape(shape)
