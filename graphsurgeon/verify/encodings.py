"""Encoded inputs verify invents: PNG images, 16-bit PCM WAV audio and tf.Example records.

PNG and WAV are written here from their specifications (a few bytes of
header around the samples), so inventing them needs no image library and no
TensorFlow; a tf.Example is TensorFlow's own proto.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping

import numpy as np

from graphsurgeon.tf.protos import pb

PNG_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG color type (gray, gray+alpha, RGB, RGBA)


def png(pixels: np.ndarray) -> bytes:
    """An 8-bit PNG of ``pixels`` (uint8, [height, width, channels])."""
    height, width, channels = pixels.shape
    rows = b"".join(b"\x00" + pixels[y].astype(np.uint8).tobytes() for y in range(height))  # filter 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, PNG_COLOR_TYPES[channels], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def wav(samples: np.ndarray, rate: int = 16000) -> bytes:
    """A 16-bit PCM WAV of ``samples`` (floats in [-1, 1], [frames, channels])."""
    frames, channels = samples.shape
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def example(features: Mapping[str, np.ndarray]) -> bytes:
    """A serialized tf.Example holding each array's values under its key (floats, int64s or bytes)."""
    proto = pb.example_pb2.Example()
    for key, values in features.items():
        feature = proto.features.feature[key]
        flat = np.asarray(values).ravel()
        if flat.dtype.kind in "OSU":
            feature.bytes_list.value.extend(v if isinstance(v, bytes) else str(v).encode() for v in flat.tolist())
        elif flat.dtype.kind == "f":
            feature.float_list.value.extend(flat.tolist())
        else:
            feature.int64_list.value.extend(int(v) for v in flat.tolist())
    return proto.SerializeToString(deterministic=True)
