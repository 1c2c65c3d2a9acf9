"""TensorFlow's V2 checkpoint format (tensor bundles), read without importing tensorflow.

PREFIX.index is a table of BundleEntryProtos (its format: graphsurgeon.bundle_format).
PREFIX.data-SSSSS-of-NNNNN hold the raw bytes. Reading the index costs
milliseconds; a tensor's bytes are read only when asked for.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from google.protobuf.message import DecodeError

from graphsurgeon.bundle_format import STRING, decode_varint, read_table
from graphsurgeon.dtypes import DTYPES, itemsize, name_of, numpy_of
from graphsurgeon.errors import LoadError
from graphsurgeon.ir.region import Region
from graphsurgeon.loaders.bundle_slices import slice_key, slice_region
from graphsurgeon.protos import pb


# What parsing a damaged index raises: offsets past the end, bad varints, corrupt protos, non-UTF-8 keys.
DAMAGED_INDEX_ERRORS = (struct.error, IndexError, DecodeError, UnicodeDecodeError)


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
        try:
            for key, value in read_table(index):
                if key == b"":
                    self.header = pb.tensor_bundle_pb2.BundleHeaderProto.FromString(value)
                elif key[:1] == b"\x00":  # EncodeTensorNameSlice keys start with OrderedCode's 0
                    self.slice_entries[key] = pb.tensor_bundle_pb2.BundleEntryProto.FromString(value)
                else:
                    self.entries[key.decode("utf-8")] = pb.tensor_bundle_pb2.BundleEntryProto.FromString(value)
        except DAMAGED_INDEX_ERRORS as err:
            raise LoadError(f"{index} is a damaged checkpoint index ({type(err).__name__}: {err}); "
                            "copy the checkpoint's .index file again from where it was written") from err
        if self.header is None:
            raise LoadError(f"{index} has no bundle header; it is not a TensorFlow V2 checkpoint index")
        self._check_entries(index, self.header.num_shards)

    def _check_entries(self, index: Path, num_shards: int) -> None:
        """Refuse entries that point outside the data files, before anything is read from them."""
        if num_shards < 1:
            raise LoadError(f"{index} declares {num_shards} data shards; the index is damaged: "
                            "copy it again from where the checkpoint was written")
        sizes: dict[int, int] = {}
        for key in sorted(self.entries):
            entry = self.entries[key]
            if entry.slices:
                continue  # partitioned: each saved slice has its own entry, checked when read
            problem = _entry_problem(entry, num_shards)
            if problem is None:
                if entry.shard_id not in sizes:
                    sizes[entry.shard_id] = _shard_size(self.shard(entry))
                if sizes[entry.shard_id] < 0:
                    problem = f"its data file {self.shard(entry).name} is missing"
                elif entry.offset + entry.size > sizes[entry.shard_id]:
                    problem = (f"its bytes {entry.offset}..{entry.offset + entry.size} lie past the end of "
                               f"{self.shard(entry).name} ({sizes[entry.shard_id]} bytes)")
            if problem is not None:
                raise LoadError(f"checkpoint {index}: tensor {key!r}: {problem}; the checkpoint is damaged or "
                                "incomplete: copy its .index and .data-* files again")

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


def _entry_problem(entry, num_shards: int) -> str | None:
    """What is inconsistent in one index entry by itself, or None."""
    if entry.dtype not in DTYPES or (entry.dtype != STRING and DTYPES[entry.dtype][1] is None
                                     and itemsize(entry.dtype) == 0):
        return f"dtype enum {entry.dtype} ({name_of(entry.dtype)}) is not a type a checkpoint stores"
    if entry.shard_id >= num_shards:
        return f"it is in shard {entry.shard_id}, but the index declares {num_shards} shard(s)"
    shape = [d.size for d in entry.shape.dim]
    if any(d < 0 for d in shape):
        return f"its shape {shape} has a negative dimension"
    if entry.dtype != STRING and int(np.prod(shape, dtype=object)) * itemsize(entry.dtype) != entry.size:
        return (f"the index says {entry.size} bytes, but shape {shape} of {name_of(entry.dtype)} "
                f"takes {int(np.prod(shape, dtype=object)) * itemsize(entry.dtype)}")
    return None


def _shard_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1  # "past the end of" a missing file: the message names the file
