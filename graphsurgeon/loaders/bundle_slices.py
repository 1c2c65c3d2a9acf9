"""Sliced tensors in a V2 checkpoint: how a partitioned variable is stored.

A Saver writes a partitioned variable under its full name with no bytes of its
own: the BundleEntryProto lists the saved slices (TensorSliceProtos), and each
slice's bytes sit under a binary key, TensorFlow's EncodeTensorNameSlice
(OrderedCode: 0, the name, the rank, then start and length of every dimension).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphsurgeon.ir.region import Region

FULL_EXTENT = -1  # TensorSlice's length for "the whole dimension"


def slice_region(proto: Any, full_shape: Sequence[int]) -> Region:
    """A TensorSliceProto as a Region of a tensor of ``full_shape`` (a missing length is the whole dim)."""
    offset, shape = [], []
    for extent, size in zip(proto.extent, full_shape):
        has_length = extent.HasField("length")
        offset.append(extent.start)
        shape.append(extent.length if has_length else size - extent.start)
    return Region(tuple(offset), tuple(shape))


def slice_key(name: str, proto: Any) -> bytes:
    """The bundle key of one saved slice, byte for byte as TensorFlow's EncodeTensorNameSlice writes it."""
    key = _num_increasing(0) + _string(name.encode("utf-8")) + _num_increasing(len(proto.extent))
    for extent in proto.extent:
        length = extent.length if extent.HasField("length") else FULL_EXTENT
        key += _signed_num_increasing(extent.start) + _signed_num_increasing(length)
    return key


def _num_increasing(value: int) -> bytes:
    body = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return bytes([len(body)]) + body


def _string(value: bytes) -> bytes:
    """OrderedCode's string: 0x00 -> 00 ff, 0xff -> ff 00, then the 00 01 terminator."""
    out = bytearray()
    for byte in value:
        out += {0x00: b"\x00\xff", 0xFF: b"\xff\x00"}.get(byte, bytes([byte]))
    return bytes(out) + b"\x00\x01"


def _signed_num_increasing(value: int) -> bytes:
    """OrderedCode's signed number: the value sign-extended to ``length`` bytes, whose top ``length``
    bits (spilling into the second byte past 8) are flipped as a unary length header."""
    magnitude = ~value if value < 0 else value
    length = 10 if magnitude.bit_length() >= 63 else magnitude.bit_length() // 7 + 1
    header = ((1 << length) - 1) << (16 - length) if length <= 16 else 0
    raw = bytearray((value & ((1 << (8 * length)) - 1)).to_bytes(length, "big"))
    raw[0] ^= header >> 8
    if length > 1:
        raw[1] ^= header & 0xFF
    return bytes(raw)
