"""Partitioned variables: each part's value, cut from the full tensor the checkpoint holds.

A partitioner (fixed_size_partitioner, an Estimator's min_max partitioner) makes
variables ``NAME/part_0..part_k`` whose VariableDef carries save_slice_info:
the full variable's name and shape, and where the part sits in it. The Saver
stores the full variable under its full name (whole, or as saved slices), never
under the part names. Each part gets a weight of its own, keyed by its node
name, that reads its region of the full tensor; when a saved slice is exactly
that region, its bytes stream straight from the data file.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError

from graphsurgeon.errors import LoadError
from graphsurgeon.ir.validate import REFETCH
from graphsurgeon.ir.region import Region
from graphsurgeon.ir.variable_defs import VARIABLE_COLLECTIONS
from graphsurgeon.ir.weights import CHUNK_BYTES, WeightInfo, WeightStore, array_chunks, numeric_nbytes
from graphsurgeon.names import TensorRef
from graphsurgeon.tf.protos import pb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Part:
    """One part of a partitioned variable: the full variable's checkpoint key and the region it covers."""

    full_name: str
    full_shape: tuple[int, ...]
    region: Region


def parts_from_collections(collections: Mapping, path: str) -> dict[str, Part]:
    """Variable node name -> Part, for every VariableDef with save_slice_info, in a stable order.

    ``path`` names the file in the error for a VariableDef that does not parse.
    """
    parts: dict[str, Part] = {}
    for key in VARIABLE_COLLECTIONS:
        collection = collections.get(key)
        if collection is None or collection.WhichOneof("kind") != "bytes_list":
            continue
        for index, raw in enumerate(collection.bytes_list.value):
            var_def = _variable_def(raw, key, index, path)
            if not var_def.HasField("save_slice_info_def"):
                continue
            parts.setdefault(TensorRef.parse(var_def.variable_name).node, _part(var_def, path))
    return dict(sorted(parts.items()))


def _part(var_def: Any, path: str) -> Part:
    """The Part a VariableDef's save_slice_info describes; one that does not lie inside its full shape is damage."""
    info = var_def.save_slice_info_def
    part = Part(info.full_name, tuple(info.full_shape), Region(tuple(info.var_offset), tuple(info.var_shape)))
    offset, shape = part.region.offset, part.region.shape
    if not (len(offset) == len(shape) == len(part.full_shape)) or any(
            o < 0 or n < 0 or o + n > full for o, n, full in zip(offset, shape, part.full_shape)):
        raise LoadError(f"{path}: variable {var_def.variable_name!r} is a part of {info.full_name!r} at offset "
                        f"{list(offset)} with shape {list(shape)}, which does not lie inside its full shape "
                        f"{list(part.full_shape)}; {REFETCH}")
    return part


def _variable_def(raw: bytes, collection: str, index: int, path: str) -> Any:
    try:
        return pb.variable_pb2.VariableDef.FromString(raw)
    except DecodeError as err:  # bad UTF-8 in a name, a truncated field: the .meta is damaged
        raise LoadError(f"{path}: entry #{index} of the {collection!r} collection is not a valid VariableDef "
                        f"({err}); {REFETCH}") from err


class PartSource:
    """Reads a part's region of the full tensor through the source that holds the full tensor."""

    def __init__(self, store: WeightStore, parts: Mapping[str, Part]):
        self._store = store
        self._parts = dict(parts)

    def read(self, key: str) -> np.ndarray:
        part = self._parts[key]
        source = self._store.source(part.full_name)
        if hasattr(source, "read_region"):
            return source.read_region(part.full_name, part.region)
        return np.ascontiguousarray(self._store.read(part.full_name)[part.region.within(Region.whole(part.full_shape))])

    def chunks(self, key: str, size: int = CHUNK_BYTES) -> Iterator[bytes | memoryview]:
        part = self._parts[key]
        source = self._store.source(part.full_name)
        if hasattr(source, "region_chunks"):
            return source.region_chunks(part.full_name, part.region, size)
        return array_chunks(self.read(key), size)


def with_parts(weights: WeightStore, parts: Mapping[str, Part], keys: Mapping[str, str]) -> tuple[WeightStore, dict[str, str]]:
    """``weights`` plus one entry per part whose full tensor is in the checkpoint; the parts' keys.

    A variable the saver already restores from a key of its own (``keys``) keeps it.
    """
    usable = {name: part for name, part in parts.items()
              if name not in keys and name not in weights and _fits(weights, name, part)}
    if not usable:
        return weights, {}
    return weights.merged(part_entries(weights, usable)), {name: name for name in usable}


def _fits(weights: WeightStore, name: str, part: Part) -> bool:
    full = weights.get(part.full_name)
    if full is not None and full.shape != part.full_shape:
        log.warning("checkpoint %r has shape %s, but part %s expects %s; the part is left without a value",
                    part.full_name, full.shape, name, part.full_shape)
        return False
    return full is not None


def part_entries(store: WeightStore, parts: Mapping[str, Part]) -> WeightStore:
    """One entry per part, keyed by the part's name, reading its region of ``store``'s full tensor."""
    source = PartSource(store, parts)
    entries = {}
    for name, part in parts.items():
        dtype = store[part.full_name].dtype
        entries[name] = (WeightInfo(name, dtype, part.region.shape, numeric_nbytes(dtype, part.region.shape)), source)
    return WeightStore(entries)
