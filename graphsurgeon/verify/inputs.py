"""Inputs for a signature: the user's arrays, else generated ones for numeric inputs."""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from graphsurgeon.errors import LoadError, UsageError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.model import Model

BATCH = 1  # an unknown dimension is filled with this (1 broadcasts against any fixed size)
MAX_GENERATED_BYTES = 2**28  # a generated sample larger than this is refused before allocating it


Shape = tuple[int, ...]


def sample_inputs(model: Model, key: str, given: Mapping[str, np.ndarray],
                  source_shapes: Mapping[str, Shape | None] | None = None) -> tuple[dict[str, np.ndarray], str | None]:
    """(feeds by input key, None) or ({}, why the signature cannot be run without the user's inputs).

    ``source_shapes`` are the static shapes the source model gives the same
    inputs: a dimension the export leaves open takes the source's size, so
    both models accept the same arrays (a source fixed at batch 40 gets 40 rows).
    """
    sig = model.signatures[key]
    rng = np.random.default_rng(0)
    feeds = {}
    for input_key in sorted(sig.inputs):
        info = sig.inputs[input_key]
        if not dt.is_defined(info.dtype):
            raise LoadError(f"signature {key!r} input {input_key!r} has dtype enum {info.dtype}, which is not a "
                            "TensorFlow DataType; the SavedModel is damaged: re-export it")
        chosen = _given(given, key, input_key, info.dtype)
        if chosen is not None:
            feeds[input_key] = chosen
        else:
            value = _generated(info, rng, f"{key}/{input_key}", (source_shapes or {}).get(input_key))
            if value is None:
                return {}, (f"input {input_key!r} ({dt.name_of(info.dtype)}) cannot be generated; "
                            f"pass it in --feeds FILE.npz under the key {input_key!r}")
            feeds[input_key] = value
    return feeds, None


def _given(given: Mapping[str, np.ndarray], key: str, input_key: str, dtype: int) -> np.ndarray | None:
    """SIGNATURE/KEY always applies; a bare KEY only where its kind (string or number) fits, since
    signatures often share a key like 'inputs' with different dtypes."""
    if f"{key}/{input_key}" in given:
        return np.asarray(given[f"{key}/{input_key}"])
    if input_key in given:
        value = np.asarray(given[input_key])
        wants_string = dtype == dt.enum_of("string")
        if (value.dtype.kind in "OSU") == wants_string:
            return value
    return None


def _generated(info, rng: np.random.Generator, where: str, source_shape: Shape | None = None) -> np.ndarray | None:
    if not info.name or info.dtype == dt.enum_of("string") or dt.numpy_of_or_none(info.dtype) is None:
        return None
    if info.tensor_shape.unknown_rank:
        own: Shape | None = None
    else:
        own = tuple(d.size for d in info.tensor_shape.dim)
    shape = _fitting_shape(own, source_shape)
    dtype = dt.numpy_of(info.dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > MAX_GENERATED_BYTES:
        raise UsageError(f"input {where} has shape {list(shape)} ({nbytes} bytes of {dtype.name}), too big to "
                         f"generate a sample for; pass one in --feeds FILE.npz under the key {where!r}")
    if dtype.kind == "f":
        return rng.random(shape).astype(dtype)
    if dtype.kind in "iu":
        return rng.integers(0, 4, shape).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    return None


def _fitting_shape(own: Shape | None, source: Shape | None) -> Shape:
    """Each dimension as the export fixes it, else as the source fixes it, else BATCH."""
    if own is None:
        own = source if source is not None else (BATCH,)
    if source is None or len(source) != len(own):
        return tuple(BATCH if d < 0 else d for d in own)
    return tuple(d if d >= 0 else (s if s >= 0 else BATCH) for d, s in zip(own, source))
