"""Writing TensorFlow V2 checkpoints (tensor bundles) by streaming, without importing tensorflow.

Each tensor's bytes are copied from their source in bounded chunks into one
data file, with their CRC32C (which TensorFlow's reader checks on restore);
the index is a table of BundleEntryProtos (graphsurgeon.formats.bundle). Memory holds one
chunk, never a whole tensor, so models larger than memory can be written.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import google_crc32c

from graphsurgeon.formats.bundle import masked_crc, write_table
from graphsurgeon.tf.protos import pb, shape_proto


class BundleWriter:
    """prefix.data-00000-of-00001 and prefix.index, tensor by tensor."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.data = open(f"{prefix}.data-00000-of-00001", "wb")
        self.entries: dict[str, Any] = {}  # BundleEntryProto

    def add(self, key: str, dtype: int, shape: tuple[int, ...], chunks: Iterable[memoryview | bytes]) -> int:
        """Append a tensor's bytes; returns how many were written."""
        offset, crc = self.data.tell(), 0
        for view in chunks:
            chunk = bytes(view)  # the C extension takes bytes only; chunks are bounded, so the copy is too
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
