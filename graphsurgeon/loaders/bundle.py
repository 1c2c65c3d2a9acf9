"""TensorFlow's V2 checkpoint format (tensor bundles), read without importing tensorflow.

PREFIX.index is a table of BundleEntryProtos (its format: graphsurgeon.formats.bundle).
PREFIX.data-SSSSS-of-NNNNN hold the raw bytes. Reading the index costs
milliseconds; a tensor's bytes are read only when asked for.
"""
from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import google_crc32c
import numpy as np
from google.protobuf.message import DecodeError

from graphsurgeon.errors import CorruptCheckpointError, LoadError
from graphsurgeon.formats.bundle import decode_varint, masked_crc, read_table
from graphsurgeon.formats.dtypes import STRING  # stored as varint lengths, a CRC, then the bytes
from graphsurgeon.formats.dtypes import DTYPES, itemsize, name_of, numpy_of
from graphsurgeon.ir.region import Region
from graphsurgeon.ir.weights import CHUNK_BYTES
from graphsurgeon.loaders.bundle_slices import slice_key, slice_region
from graphsurgeon.tf.protos import pb

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
        self.header: Any = None  # BundleHeaderProto, required below
        self.entries = {}
        self.slice_entries: dict[bytes, object] = {}
        self._shards: dict[int, Path] = {}
        self._shapes: dict[str, tuple[int, ...]] = {}  # each whole entry's, read once when it is checked
        try:
            for key, value in read_table(index):
                if key == b"":
                    self.header = pb.tensor_bundle_pb2.BundleHeaderProto.FromString(value)
                elif key[:1] == b"\x00":  # EncodeTensorNameSlice keys start with OrderedCode's 0
                    self.slice_entries[key] = pb.tensor_bundle_pb2.BundleEntryProto.FromString(value)
                else:
                    self.entries[key.decode("utf-8")] = pb.tensor_bundle_pb2.BundleEntryProto.FromString(value)
        except DAMAGED_INDEX_ERRORS as err:
            raise CorruptCheckpointError(f"{index} is a damaged checkpoint index ({type(err).__name__}: {err}); "
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
            shape = self._shapes[key] = tuple(d.size for d in entry.shape.dim)
            problem = _entry_problem(entry, num_shards, shape)
            if problem is None:
                if entry.shard_id not in sizes:
                    sizes[entry.shard_id] = _shard_size(self.shard(entry))
                if sizes[entry.shard_id] < 0:
                    problem = f"its data file {self.shard(entry).name} is missing"
                elif entry.offset + entry.size > sizes[entry.shard_id]:
                    problem = (f"its {entry.size} bytes at offset {entry.offset} lie past the end of "
                               f"{self.shard(entry).name} ({sizes[entry.shard_id]} bytes)")
            if problem is not None:
                raise CorruptCheckpointError(f"checkpoint {index}: tensor {key!r}: {problem}; the checkpoint is damaged or "
                                "incomplete: copy its .index and .data-* files again")

    def needs_tensorflow(self) -> bool:
        """Big-endian bundles are left to TensorFlow's reader."""
        return self.header.endianness != 0

    def shard(self, entry: Any) -> Path:
        path = self._shards.get(entry.shard_id)
        if path is None:
            path = self._shards[entry.shard_id] = Path(
                f"{self.prefix}.data-{entry.shard_id:05d}-of-{self.header.num_shards:05d}")
        return path

    def shape(self, key: str) -> tuple[int, ...]:
        shape = self._shapes.get(key)
        return shape if shape is not None else tuple(d.size for d in self.entries[key].shape.dim)

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

    def whole_entry(self, key: str, region: Region) -> Any:
        """The entry holding exactly ``region`` of ``key`` (the tensor itself or one saved slice), else None."""
        entry = self.entries[key]
        if not entry.slices:
            return entry if region == Region.whole(self.shape(key)) else None
        return next((e for r, e in self.saved_slices(key) if r == region), None)

    def read(self, key: str) -> np.ndarray:
        entry = self.entries[key]
        if not entry.slices:  # whole: what read_region does for the whole box, without building it
            return self._read_entry(entry, key)
        return self.read_region(key, Region.whole(self.shape(key)))

    def read_region(self, key: str, region: Region) -> np.ndarray:
        """A box of a tensor, copied together from the saved slices that overlap it."""
        whole = self.whole_entry(key, region)
        if whole is not None:
            return self._read_entry(whole, key)
        entry = self.entries[key]
        if not entry.slices:
            return self._read_entry(entry, key)[region.within(Region.whole(self.shape(key)))]
        out = np.empty(region.shape, dtype=object if entry.dtype == STRING else numpy_of(entry.dtype))
        for saved, slice_entry in self.saved_slices(key):
            common = saved.overlap(region)
            if common is not None:
                out[common.within(region)] = self._read_entry(slice_entry, key)[common.within(saved)]
        return out

    def stream(self, key: str, entry: Any, size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """An entry's bytes in pieces of at most ``size``, checked against the entry as they stream.

        The CRC32C is extended chunk by chunk (constant memory), and the last
        chunk is handed out only once the whole entry matched: a consumer never
        finishes with corrupt bytes. A file that ends early is an error, not a
        loop waiting for bytes that never come. (A string tensor's checksum
        covers its lengths as integers, not the bytes on disk: see _strings.)
        """
        if entry.dtype == STRING:
            self._read_entry(entry, key)  # checks the checksum
        yield from self._stream(key, entry, size, check_crc=entry.dtype != STRING)

    def _stream(self, key: str, entry: Any, size: int, check_crc: bool) -> Iterator[bytes]:
        path = self.shard(entry)
        _check_entry_size(key, entry, path)
        try:
            f = open(path, "rb")
        except OSError as err:
            raise LoadError(f"cannot read checkpoint data {path} for tensor {key!r}: {err.strerror}; "
                            "copy the .data-* files from where the checkpoint was written") from err
        with f:
            f.seek(entry.offset)
            crc, done = 0, 0
            while done < entry.size:
                chunk = f.read(min(size, entry.size - done))
                if not chunk:  # end of file: the loop must end here, not wait for bytes
                    raise _truncated(key, entry, path, os.fstat(f.fileno()).st_size)
                crc = google_crc32c.extend(crc, chunk)
                done += len(chunk)
                if check_crc and done == entry.size and masked_crc(crc) != entry.crc32c:
                    raise _corrupt(key, entry, path)
                yield chunk

    def _read_entry(self, entry: Any, key: str) -> np.ndarray:
        """A whole entry, checked like stream()."""
        shape = tuple(d.size for d in entry.shape.dim)
        raw = bytearray()
        for chunk in self._stream(key, entry, CHUNK_BYTES, check_crc=entry.dtype != STRING):
            raw += chunk
        if entry.dtype == STRING:
            return self._strings(key, entry, bytes(raw), shape)
        return np.frombuffer(raw, dtype=numpy_of(entry.dtype)).reshape(shape)

    def _strings(self, key: str, entry: Any, raw: bytes, shape: tuple[int, ...]) -> np.ndarray:
        """Varint lengths, their masked CRC32C, then the bytes. TensorFlow's checksum covers each length
        as a little-endian uint32 (uint64 above 4 GiB), the length checksum, and the bytes."""
        count, pos, lengths = int(np.prod(shape)), 0, []
        try:
            for _ in range(count):
                length, pos = decode_varint(raw, pos)
                lengths.append(length)
        except IndexError as err:
            raise _corrupt(key, entry, self.shard(entry)) from err
        crc = google_crc32c.value(b"".join(struct.pack("<I" if n <= 0xFFFFFFFF else "<Q", n) for n in lengths))
        crc = google_crc32c.extend(crc, raw[pos:pos + 4])
        pos += 4
        values = []
        for length in lengths:
            values.append(raw[pos:pos + length])
            crc = google_crc32c.extend(crc, values[-1])
            pos += length
        if masked_crc(crc) != entry.crc32c or pos != len(raw):
            raise _corrupt(key, entry, self.shard(entry))
        return np.array(values, dtype=object).reshape(shape)


def _check_entry_size(key: str, entry: Any, path: Path) -> None:
    """A fixed-width tensor's entry must hold exactly dtype size x elements bytes."""
    width = itemsize(entry.dtype) if entry.dtype in DTYPES else 0  # 0: variable width, or not sized here
    shape = [d.size for d in entry.shape.dim]
    if width and entry.size != width * math.prod(shape):
        raise CorruptCheckpointError(
            f"checkpoint tensor {key!r}: its index entry in {path.parent} says {name_of(entry.dtype)}{shape} "
            f"({width * math.prod(shape)} bytes) but stores {entry.size} bytes at offset {entry.offset} of "
            f"{path.name}; the index does not describe its data - re-save the checkpoint")


def _truncated(key: str, entry: Any, path: Path, length: int) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"checkpoint tensor {key!r}: {path} is {length} bytes long, but its index entry needs {entry.size} bytes "
        f"at offset {entry.offset}; the data file is truncated - copy it again from where the checkpoint was written")


def _corrupt(key: str, entry: Any, path: Path) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"checkpoint tensor {key!r}: the {entry.size} bytes at offset {entry.offset} of {path} fail their CRC32C "
        "check (the file is corrupt); restore the checkpoint's .data file from a good copy")


def _entry_problem(entry: Any, num_shards: int, shape: tuple[int, ...]) -> str | None:
    """What is inconsistent in one index entry (whose shape is ``shape``) by itself, or None."""
    if entry.dtype not in DTYPES or (entry.dtype != STRING and DTYPES[entry.dtype][1] is None
                                     and itemsize(entry.dtype) == 0):
        return f"dtype enum {entry.dtype} ({name_of(entry.dtype)}) is not a type a checkpoint stores"
    if entry.shard_id >= num_shards:
        return f"it is in shard {entry.shard_id}, but the index declares {num_shards} shard(s)"
    if any(d < 0 for d in shape):
        return f"its shape {list(shape)} has a negative dimension"
    if entry.dtype != STRING and math.prod(shape) * itemsize(entry.dtype) != entry.size:  # Python ints: no overflow
        return (f"the index says {entry.size} bytes, but shape {list(shape)} of {name_of(entry.dtype)} "
                f"takes {math.prod(shape) * itemsize(entry.dtype)}")
    return None


def _shard_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1  # "past the end of" a missing file: the message names the file
