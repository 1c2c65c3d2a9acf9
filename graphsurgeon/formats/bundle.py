"""TensorFlow's checkpoint index format (a leveldb table of BundleEntryProtos), read and written here.

PREFIX.index is a leveldb-format table: key "" holds a BundleHeaderProto, every
other key a tensor's BundleEntryProto (dtype, shape, shard, offset, size, crc).
The reader (loaders/bundle.py) and the writer (exporters/bundle_writer.py)
share this one description of the bytes: magic, footer, varints, blocks, CRCs.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import google_crc32c

from graphsurgeon.errors import CorruptCheckpointError, LoadError

TABLE_MAGIC = 0xDB4775248B80FB57  # the last 8 bytes of every leveldb table
FOOTER_SIZE = 48  # two block handles padded to 40 bytes, then the magic
RESTART_INTERVAL = 16  # keys between full (unshared) keys in a block, as leveldb writes them
BLOCK_SIZE = 4096  # a data block is flushed once it reaches this size
CRC_MASK_DELTA = 0xA282EAD8


def masked_crc(crc: int) -> int:
    """leveldb's CRC masking, which TensorFlow uses for bundle entries, table blocks and TFRecords."""
    return (((crc >> 15) | (crc << 17)) + CRC_MASK_DELTA) & 0xFFFFFFFF


def encode_varint(value: int) -> bytes:
    """``value`` as an unsigned LEB128 varint."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# ---------------------------------------------------------------- reading

def decode_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The unsigned LEB128 varint at ``pos`` and the position after it."""
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


class CompressedIndex(Exception):
    """The index uses a block compression other than snappy; TensorFlow's reader handles it."""


NO_COMPRESSION, SNAPPY = 0, 1  # a block trailer's compression type (TensorFlow's older writers used snappy)


def _block(data: bytes, handle: bytes, path: Path) -> bytes:
    offset, pos = decode_varint(handle, 0)
    size, _ = decode_varint(handle, pos)
    compression = data[offset + size]  # the 5-byte trailer: the compression type, then the masked CRC
    if compression not in (NO_COMPRESSION, SNAPPY):
        raise CompressedIndex(str(path))
    (stored,) = struct.unpack_from("<I", data, offset + size + 1)
    if masked_crc(google_crc32c.value(data[offset:offset + size + 1])) != stored:
        raise CorruptCheckpointError(f"{path}: the block at offset {offset} fails its CRC32C check (the index is "
                                     "corrupt); restore the checkpoint's .index file from a good copy")
    if compression == SNAPPY:
        return _unsnappy(data[offset:offset + size], path)
    return data[offset:offset + size]


def _unsnappy(block: bytes, path: Path) -> bytes:
    import cramjam  # imported here: only older writers' indexes need it

    try:
        return bytes(cramjam.snappy.decompress_raw(block))
    except cramjam.DecompressionError as err:
        raise CorruptCheckpointError(f"{path}: a snappy-compressed block does not decompress ({err}); restore the "
                                     "checkpoint's .index file from a good copy") from err


def _entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    (restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * restarts
    pos, key = 0, b""
    while pos < limit:
        shared, pos = decode_varint(block, pos)
        unshared, pos = decode_varint(block, pos)
        value_size, pos = decode_varint(block, pos)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        yield key, block[pos:pos + value_size]
        pos += value_size


def read_table(path: Path) -> Iterator[tuple[bytes, bytes]]:
    data = path.read_bytes()
    if len(data) < FOOTER_SIZE or struct.unpack_from("<Q", data, len(data) - 8)[0] != TABLE_MAGIC:
        raise LoadError(f"{path} is not a checkpoint index (bad footer); the file may be truncated")
    footer = data[-FOOTER_SIZE:]
    _, pos = decode_varint(footer, decode_varint(footer, 0)[1])  # skip the metaindex handle
    index_handle = footer[pos:]
    for _, handle in _entries(_block(data, index_handle, path)):
        yield from _entries(_block(data, handle, path))


# ---------------------------------------------------------------- writing

class _BlockBuilder:
    def __init__(self) -> None:
        self.buffer, self.restarts, self.count, self.last_key = bytearray(), [0], 0, b""

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.count < RESTART_INTERVAL:
            while shared < min(len(key), len(self.last_key)) and key[shared] == self.last_key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buffer))
            self.count = 0
        self.buffer += encode_varint(shared) + encode_varint(len(key) - shared) + encode_varint(len(value))
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


def _write_block(f: BinaryIO, contents: bytes) -> bytes:
    offset = f.tell()
    crc = masked_crc(google_crc32c.extend(google_crc32c.value(contents), b"\0"))
    f.write(contents + b"\0" + struct.pack("<I", crc))
    return encode_varint(offset) + encode_varint(len(contents))
