"""TensorFlow's V2 checkpoint format (tensor bundles), read without importing tensorflow.

PREFIX.index is a table of BundleEntryProtos (its format: graphsurgeon.bundle_format).
PREFIX.data-SSSSS-of-NNNNN hold the raw bytes. Reading the index costs
milliseconds; a tensor's bytes are read only when asked for.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from graphsurgeon.bundle_format import STRING, decode_varint, read_table
from graphsurgeon.dtypes import numpy_of
from graphsurgeon.errors import LoadError
from graphsurgeon.protos import pb


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
            length, pos = decode_varint(raw, pos)
            lengths.append(length)
        pos += 4  # masked crc32c of the lengths
        values = []
        for length in lengths:
            values.append(raw[pos:pos + length])
            pos += length
        return np.array(values, dtype=object).reshape(shape)
