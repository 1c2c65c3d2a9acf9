"""Writing TensorFlow V2 checkpoints (tensor bundles) by streaming, without importing tensorflow.

Each tensor's bytes are copied from their source in bounded chunks into one
data file, with their CRC32C (which TensorFlow's reader checks on restore);
the index is a leveldb-format table of BundleEntryProtos. Memory holds one
chunk, never a whole tensor, so models larger than memory can be written.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

import google_crc32c

from graphsurgeon.protos import pb, shape_proto

TABLE_MAGIC = 0xDB4775248B80FB57
RESTART_INTERVAL = 16
BLOCK_SIZE = 4096
CRC_MASK_DELTA = 0xA282EAD8


def masked_crc(crc: int) -> int:
    """leveldb's CRC masking, which TensorFlow uses for bundle entries and table blocks."""
    return (((crc >> 15) | (crc << 17)) + CRC_MASK_DELTA) & 0xFFFFFFFF


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class _BlockBuilder:
    def __init__(self):
        self.buffer, self.restarts, self.count, self.last_key = bytearray(), [0], 0, b""

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.count < RESTART_INTERVAL:
            while shared < min(len(key), len(self.last_key)) and key[shared] == self.last_key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buffer))
            self.count = 0
        self.buffer += _varint(shared) + _varint(len(key) - shared) + _varint(len(value))
        self.buffer += key[shared:] + value
        self.last_key, self.count = key, self.count + 1

    def finish(self) -> bytes:
        tail = b"".join(struct.pack("<I", r) for r in self.restarts) + struct.pack("<I", len(self.restarts))
        return bytes(self.buffer) + tail

    def size(self) -> int:
        return len(self.buffer) + 4 * len(self.restarts) + 4


def write_table(path: Path, items: Iterable[tuple[bytes, bytes]]) -> None:
    """A leveldb-format table of sorted (key, value) pairs, uncompressed."""
    with open(path, "wb") as f:
        index, block = _BlockBuilder(), _BlockBuilder()

        def flush() -> None:
            nonlocal block
            if block.count or block.restarts != [0]:
                handle = _write_block(f, block.finish())
                index.add(block.last_key, handle)
                block = _BlockBuilder()

        for key, value in items:
            block.add(key, value)
            if block.size() >= BLOCK_SIZE:
                flush()
        flush()
        metaindex = _write_block(f, _BlockBuilder().finish())
        index_handle = _write_block(f, index.finish())
        footer = (metaindex + index_handle).ljust(40, b"\0") + struct.pack("<Q", TABLE_MAGIC)
        f.write(footer)


def _write_block(f, contents: bytes) -> bytes:
    offset = f.tell()
    crc = masked_crc(google_crc32c.extend(google_crc32c.value(contents), b"\0"))
    f.write(contents + b"\0" + struct.pack("<I", crc))
    return _varint(offset) + _varint(len(contents))


class BundleWriter:
    """prefix.data-00000-of-00001 and prefix.index, tensor by tensor."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.data = open(f"{prefix}.data-00000-of-00001", "wb")
        self.entries: dict[str, object] = {}

    def add(self, key: str, dtype: int, shape: tuple[int, ...], chunks: Iterable[memoryview]) -> int:
        """Append a tensor's bytes; returns how many were written."""
        offset, crc = self.data.tell(), 0
        for chunk in chunks:
            chunk = bytes(chunk)  # the C extension takes bytes only; chunks are bounded, so the copy is too
            crc = google_crc32c.extend(crc, chunk)
            self.data.write(chunk)
        entry = pb.tensor_bundle_pb2.BundleEntryProto(dtype=dtype, shard_id=0, offset=offset,
                                                          size=self.data.tell() - offset, crc32c=masked_crc(crc))
        entry.shape.CopyFrom(shape_proto(shape))
        self.entries[key] = entry
        return entry.size

    def finish(self) -> None:
        """Close both files. Durability (fsync) is the publisher's job, so it can overlap other work."""
        self.data.close()
        header = pb.tensor_bundle_pb2.BundleHeaderProto(num_shards=1)
        header.version.producer = 1
        items = [(b"", header.SerializeToString())]
        items += [(k.encode(), self.entries[k].SerializeToString()) for k in sorted(self.entries)]
        write_table(Path(f"{self.prefix}.index"), items)
