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
from graphsurgeon.ir.region import Region
from graphsurgeon.loaders.bundle_slices import slice_key, slice_region
from graphsurgeon.protos import pb


class Bundle:
    """The entries of one V2 checkpoint, and reading a tensor's bytes on request.

    ``entries`` are the tensors by name; a partitioned variable's entry lists its
    saved slices, whose own entries (under binary keys) are in ``slice_entries``.
    """

    def __init__(self, prefix: str):
        self.prefix = prefix
        index = Path(prefix + ".index")
        self.header = None
        self.entries = {}
        self.slice_entries: dict[bytes, object] = {}
        for key, value in read_table(index):
            if key == b"":
                self.header = pb.tensor_bundle_pb2.BundleHeaderProto.FromString(value)
            elif key[:1] == b"\x00":  # EncodeTensorNameSlice keys start with OrderedCode's 0
                self.slice_entries[key] = pb.tensor_bundle_pb2.BundleEntryProto.FromString(value)
            else:
                self.entries[key.decode("utf-8")] = pb.tensor_bundle_pb2.BundleEntryProto.FromString(value)
        if self.header is None:
            raise LoadError(f"{index} has no bundle header; it is not a TensorFlow V2 checkpoint index")

    def needs_tensorflow(self) -> bool:
        """Big-endian bundles are left to TensorFlow's reader."""
        return self.header.endianness != 0

    def shard(self, entry) -> Path:
        return Path(f"{self.prefix}.data-{entry.shard_id:05d}-of-{self.header.num_shards:05d}")

    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(d.size for d in self.entries[key].shape.dim)

    def saved_slices(self, key: str) -> list[tuple[Region, object]]:
        """(region, entry) of every saved slice of a partitioned tensor; [] for a whole one."""
        entry, shape = self.entries[key], self.shape(key)
        out = []
        for proto in entry.slices:
            raw = slice_key(key, proto)
            if raw not in self.slice_entries:
                raise LoadError(f"checkpoint {self.prefix} lists a slice of {key!r} it does not store; "
                                "the .index is damaged: copy it again from where the checkpoint was written")
            out.append((slice_region(proto, shape), self.slice_entries[raw]))
        return out

    def whole_entry(self, key: str, region: Region):
        """The entry holding exactly ``region`` of ``key`` (the tensor itself or one saved slice), else None."""
        entry = self.entries[key]
        if not entry.slices:
            return entry if region == Region.whole(self.shape(key)) else None
        return next((e for r, e in self.saved_slices(key) if r == region), None)

    def read(self, key: str) -> np.ndarray:
        return self.read_region(key, Region.whole(self.shape(key)))

    def read_region(self, key: str, region: Region) -> np.ndarray:
        """A box of a tensor, copied together from the saved slices that overlap it."""
        whole = self.whole_entry(key, region)
        if whole is not None:
            return self._read_entry(whole)
        entry = self.entries[key]
        if not entry.slices:
            return self._read_entry(entry)[region.within(Region.whole(self.shape(key)))]
        out = np.empty(region.shape, dtype=object if entry.dtype == STRING else numpy_of(entry.dtype))
        for saved, slice_entry in self.saved_slices(key):
            common = saved.overlap(region)
            if common is not None:
                out[common.within(region)] = self._read_entry(slice_entry)[common.within(saved)]
        return out

    def _read_entry(self, entry) -> np.ndarray:
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
