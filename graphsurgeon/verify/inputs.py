"""Inputs for a signature: the user's arrays, else invented ones that exercise the model.

Every invented input has the signature's exact rank (a 0-d input gets a 0-d
value). An unknown batch is 2, and a second run uses 3, so a batch that only
works as 1 shows. Other unknown dimensions come from evidence, in order: the
shape the source gives the same tensor, the shape the export's record kept,
then the smallest size for which every output is non-empty (sizes.py). Values
come from what the graph does with them (domains.py). Each invented input
says its shape, dtype, values and why.
"""
from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from graphsurgeon.errors import LoadError, UsageError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.shapes import placeholder_dims
from graphsurgeon.names import TensorRef
from graphsurgeon.verify import encodings
from graphsurgeon.verify.domains import Domain, domain_of

BATCHES = (2, 3)  # an unknown batch is run at both: never 1, which broadcasts and hides batch bugs
FREE = -2  # a dimension nothing gives a size to: the size search decides it
DEFAULT_INT_HIGH = 4
UNKNOWN_WORD = b"graphsurgeon-unknown-word"
PLAIN_WORDS = (b"graphsurgeon", b"verify", b"serving", b"model")
MAX_GENERATED_BYTES = 2**28  # a generated sample larger than this is refused before allocating it
MAX_RANK = 5  # ranks tried for an input whose rank nothing states

Shape = tuple[int, ...]


@dataclass(frozen=True)
class InventedInput:
    """What verify fed an input it invented, for the report and --json."""

    key: str
    shape: list[int]
    dtype: str
    values: str
    why: str


@dataclass(frozen=True)
class SignatureInputs:
    """The feeds of one signature, by input key: one set per batch size (the first is the main run)."""

    feeds: list[dict[str, np.ndarray]]
    batches: list[int | None]  # the invented batch of each set (None: fixed by the signature or the user)
    invented: list[InventedInput]
    skip: str | None = None  # why the signature cannot be run without the user's inputs


@dataclass(frozen=True)
class Evidence:
    """Where sizes come from, besides the signature: the source, the record, and the size search."""

    source: Callable[[str], Shape | None]  # input key -> the shape the source gives it
    record: Mapping[str, Shape | None]  # input key -> the shape the export's record kept
    # (shapes with FREE dims, the batch for -1 dims: None leaves them unknown) -> the smallest size that fits
    search: Callable[[dict[str, Shape], int | None], int | None]
    domains: Mapping[str, Domain] = field(default_factory=dict)  # input key -> values the record says it takes


def signature_inputs(model: Model, key: str, given: Mapping[str, np.ndarray], evidence: Evidence,
                     assets_dir: Path | None, batch_sizes: Sequence[int] = BATCHES) -> SignatureInputs:
    """The feeds of signature ``key``: ``given`` arrays, the rest invented (at each of ``batch_sizes`` when
    the batch is free)."""
    sig = model.signatures[key]
    chosen, missing = {}, []
    for input_key in sorted(sig.inputs):
        info = sig.inputs[input_key]
        if not dt.is_defined(info.dtype):
            raise LoadError(f"signature {key!r} input {input_key!r} has dtype enum {info.dtype}, which is not a "
                            "TensorFlow DataType; the SavedModel is damaged: re-export it")
        value = _given(given, key, input_key, info.dtype)
        if value is not None:
            chosen[input_key] = _checked(value, info, f"{key}/{input_key}")
        else:
            missing.append(input_key)
    if not missing:
        return SignatureInputs([chosen], [None], [])
    given_batch = _given_batch(sig, chosen)
    decided = _shapes(model, sig, missing, evidence, given_batch, given_batch or batch_sizes[0])
    if isinstance(decided, str):
        return SignatureInputs([], [], [], decided)
    shapes, whys = decided
    batched = {k for k, s in shapes.items() if s and s[0] == -1}
    batches: list[int | None] = list(batch_sizes) if batched else [None]
    feeds, invented = [], []
    for batch in batches:
        made = _invented_set(model, key, shapes, batch, chosen, evidence, assets_dir)
        if isinstance(made, str):
            return SignatureInputs([], [], [], made)
        arrays, described = made
        feeds.append({**chosen, **arrays})
        if batch == batches[0]:
            then = f", then {batches[1]}" if len(batches) > 1 else ""
            invented = [InventedInput(k, list(arrays[k].shape), dt.name_of(sig.inputs[k].dtype), described[k],
                                      whys[k] + (f"; batch {batch}{then}" if k in batched else "")) for k in missing]
    return SignatureInputs(feeds, batches, invented)


def _invented_set(model: Model, key: str, shapes: Mapping[str, Shape], batch: int | None,
                  given: Mapping[str, np.ndarray], evidence: Evidence,
                  assets_dir: Path | None) -> tuple[dict[str, np.ndarray], dict[str, str]] | str:
    """One array per missing input at ``batch`` (for its -1 dims), and what its values are; or why not."""
    sig = model.signatures[key]
    rng = np.random.default_rng(zlib.crc32(f"{key}/{batch}".encode()))
    arrays, described = {}, {}
    for input_key, dims in shapes.items():
        shape = tuple(d if d != -1 else batch or 0 for d in dims)
        made = _invent(model, sig.inputs[input_key], shape, rng, f"{key}/{input_key}", assets_dir,
                       evidence.domains.get(input_key), _shortest(shapes, given))
        if isinstance(made, str):
            return made
        arrays[input_key], described[input_key] = made
    return arrays, described


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


def _checked(value: np.ndarray, info: Any, where: str) -> np.ndarray:
    """A fed array must have the signature's rank: on another, some of TensorFlow's kernels abort the process."""
    if info.tensor_shape.unknown_rank:
        return value
    dims = [d.size for d in info.tensor_shape.dim]
    if len(dims) != value.ndim:
        wanted = "[" + ",".join("?" if d < 0 else str(d) for d in dims) + "]"
        raise UsageError(f"--feeds {where} has shape {list(value.shape)}, but the signature takes {wanted}; "
                         "give an array of that rank")
    return value


def _given_batch(sig: Any, chosen: Mapping[str, np.ndarray]) -> int | None:
    """The batch of the user's arrays, which invented inputs beside them must share."""
    for input_key, value in chosen.items():
        shape = sig.inputs[input_key].tensor_shape
        if not shape.unknown_rank and shape.dim and shape.dim[0].size < 0 and value.ndim:
            return int(value.shape[0])
    return None


def _shapes(model: Model, sig: Any, missing: Sequence[str], evidence: Evidence, batch: int | None,
            search_batch: int) -> tuple[dict[str, Shape], dict[str, str]] | str:
    """Each missing input's shape (-1: the batch, decided per run) and why, searching the sizes nothing gives;
    or why an input's shape cannot be found."""
    shapes: dict[str, Shape] = {}
    whys: dict[str, str] = {}
    unranked = []
    for input_key in missing:
        shape, why = _shape(_stated(model, sig.inputs[input_key]), evidence.source(input_key),
                            evidence.record.get(input_key), batch)
        if shape is None:
            unranked.append(input_key)
        else:
            shapes[input_key], whys[input_key] = shape, why
    for input_key in unranked:
        ranked = _rank(shapes, input_key, evidence, batch, search_batch)
        if ranked is None:
            return (f"the rank of input {input_key!r} is unknown everywhere and no rank from 0 to {MAX_RANK} fits the "
                    f"graph; pass it in --feeds FILE.npz under the key {input_key!r}")
        shapes[input_key], whys[input_key] = ranked
    if any(FREE in shape for shape in shapes.values()):
        size = evidence.search(shapes, search_batch)
        for input_key, shape in shapes.items():
            if FREE in shape:
                shapes[input_key] = tuple((size or 2) if d == FREE else d for d in shape)
                whys[input_key] += (f"; other unknown sizes {size}, the smallest for which every output is non-empty"
                                    if size else "; other unknown sizes 2 (no size makes every output non-empty)")
    return shapes, whys


def _stated(model: Model, info: Any) -> Shape | None:
    """The shape a signature states for an input, as TensorFlow reads it (an old graph's `shape {}` is any shape)."""
    node = model.graph.get(TensorRef.parse(info.name).node) if info.name else None
    if node is not None and node.op == "Placeholder" and "shape" in node.attrs:
        return placeholder_dims(model.graph, node)
    return None if info.tensor_shape.unknown_rank else tuple(d.size for d in info.tensor_shape.dim)


def _rank(shapes: Mapping[str, Shape], input_key: str, evidence: Evidence, batch: int | None,
          search_batch: int) -> tuple[Shape, str] | None:
    """The first rank at which TensorFlow's shape inference accepts an input nothing gives a rank to: at the
    batch verify runs first (an unknown batch hides a Reshape that flattens rows of several values), else at
    any batch (a batch the graph pins does not make the rank wrong)."""
    for at in (search_batch, None):
        for rank in (*range(1, MAX_RANK + 1), 0):  # a batch of values first; a scalar last (a DecodeWav's bytes)
            shape = (batch or -1, *(FREE,) * (rank - 1)) if rank else ()
            if evidence.search({**shapes, input_key: shape}, at) is not None:
                return shape, (f"its rank is unknown everywhere: rank {rank}, the first the graph's shape "
                               "inference accepts")
    return None


def _shape(own: Shape | None, source: Shape | None, recorded: Shape | None,
           batch: int | None) -> tuple[Shape | None, str]:
    """One input's dims, from the signature, the source, the record; unknown batch -1, unknown others FREE;
    None when no one gives its rank."""
    if own is None:
        own = source if source is not None else recorded
        if own is None:
            return None, ""
    if not own:
        return (), "a scalar, as the signature declares"
    dims, why = [], ["the signature's shape"]
    for i, d in enumerate(own):
        if d >= 0:
            dims.append(d)
        elif i == 0:
            dims.append(batch or -1)
        elif source is not None and _known(source, own, i):
            dims.append(source[i])
            why.append(f"dim {i} from the source ({source[i]})")
        elif recorded is not None and _known(recorded, own, i):
            dims.append(recorded[i])
            why.append(f"dim {i} from the export's record ({recorded[i]})")
        else:
            dims.append(FREE)
    return tuple(dims), ", ".join(why)


def _known(shape: Shape | None, own: Shape, i: int) -> bool:
    return shape is not None and len(shape) == len(own) and shape[i] >= 0


def _shortest(shapes: Mapping[str, Shape], given: Mapping[str, np.ndarray]) -> int:
    """The shortest size past the batch among the inputs: sequence lengths stay within it."""
    sizes = [d for s in shapes.values() for d in s[1:] if d > 0]
    sizes += [d for v in given.values() for d in v.shape[1:] if d > 0]
    return min(sizes, default=1)


def _invent(model: Model, info: Any, shape: Shape, rng: np.random.Generator, where: str, assets_dir: Path | None,
            domain: Domain | None, shortest: int) -> tuple[np.ndarray, str] | str:
    """(array, what its values are) or why the input cannot be invented."""
    dtype = dt.numpy_of_or_none(info.dtype)
    if not info.name or dtype is None or (dtype.kind not in "fiubOSU"):
        return (f"input {where.split('/', 1)[1]!r} ({dt.name_of(info.dtype)}) cannot be invented; "
                f"pass it in --feeds FILE.npz under the key {where!r}")
    count = math.prod(shape)
    if dtype.kind != "O" and count * dtype.itemsize > MAX_GENERATED_BYTES:
        raise UsageError(f"input {where} has shape {list(shape)} ({count * dtype.itemsize} bytes of {dtype.name}), "
                         f"too big to generate; pass one in --feeds FILE.npz under the key {where!r}")
    domain = domain or domain_of(model, TensorRef.parse(info.name), assets_dir)
    if domain.kind == "lengths":
        domain = replace(domain, high=shortest + 1)
    return values(domain, dtype, shape, rng)


def values(domain: Domain, dtype: np.dtype, shape: Shape, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Values of ``dtype`` and ``shape`` in ``domain``, and a description of them."""
    if dtype.kind in "OSU":
        return _strings(domain, shape, rng)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool), "booleans"
    if domain.kind == "vocabulary" and domain.words and isinstance(domain.words[0], int):
        keys = np.array(list(domain.words) + [max(domain.words) + 1])
        chosen = _with_one_unknown(rng.choice(keys[:-1], shape), keys[-1])
        return chosen.astype(dtype), domain.why
    if domain.kind == "lengths" and domain.high:
        return rng.integers(1, domain.high, shape).astype(dtype), \
            f"{domain.why}: integers in [1, {domain.high - 1}], within the shortest input size"
    if domain.kind == "ids" and domain.high:
        return rng.integers(0, domain.high, shape).astype(dtype), f"{domain.why}: integers in [0, {domain.high})"
    if dtype.kind == "f":
        return rng.random(shape).astype(dtype), "uniform in [0, 1)"
    return rng.integers(0, DEFAULT_INT_HIGH, shape).astype(dtype), f"integers in [0, {DEFAULT_INT_HIGH})"


def _with_one_unknown(chosen: np.ndarray, unknown: object) -> np.ndarray:
    """The last element becomes the out-of-vocabulary key (when there are two or more)."""
    if chosen.size > 1:
        chosen = chosen.astype(object) if isinstance(unknown, bytes) else chosen.copy()
        chosen.reshape(-1)[-1] = unknown
    return chosen


def _strings(domain: Domain, shape: Shape, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    count = math.prod(shape)
    if domain.kind == "vocabulary" and domain.words:
        words = [w if isinstance(w, bytes) else str(w).encode() for w in domain.words]
        if domain.split:
            items = [b" ".join(rng.choice(words, 3).tolist()) for _ in range(count)]
            if count > 1:
                items[-1] = items[-1] + b" " + UNKNOWN_WORD
            return np.array(items, dtype=object).reshape(shape), domain.why
        chosen = np.array([words[i] for i in rng.integers(0, len(words), count)], dtype=object)
        return _with_one_unknown(chosen, UNKNOWN_WORD).reshape(shape), domain.why
    if domain.kind == "example":
        items = [_without_trailing_nul(lambda: encodings.example(_features(domain, rng))) for _ in range(count)]
        return np.array(items, dtype=object).reshape(shape), domain.why
    if domain.kind == "image":
        height, width, channels = domain.size
        items = [encodings.png(rng.integers(0, 256, (height, width, channels)).astype(np.uint8)) for _ in range(count)]
        return np.array(items, dtype=object).reshape(shape), f"{domain.why} {height}x{width}x{channels}"
    if domain.kind == "audio":
        samples, channels = domain.size
        items = [_without_trailing_nul(lambda: encodings.wav(rng.uniform(-0.5, 0.5, (samples, channels))))
                 for _ in range(count)]
        return np.array(items, dtype=object).reshape(shape), f"{domain.why}, {samples} samples"
    items = [b" ".join(rng.choice(np.array(PLAIN_WORDS, dtype=object), 3).tolist()) for _ in range(count)]
    return np.array(items, dtype=object).reshape(shape), "plain words (nothing in the graph says what the strings hold)"


def _without_trailing_nul(make: Callable[[], bytes]) -> bytes:
    """An encoding that does not end in a NUL byte, drawn again if it does: numpy's bytes arrays drop
    trailing NULs, so --save-feeds could not keep it exactly."""
    item = make()
    for _ in range(16):
        if not item.endswith(b"\0"):
            break
        item = make()
    return item


def _features(domain: Domain, rng: np.random.Generator) -> dict[str, np.ndarray]:
    out = {}
    for feature in domain.features:
        # a sparse feature gets one value: TFX and Estimators often densify it to one value per example
        shape = tuple(max(d, 1) for d in feature.shape) if feature.shape is not None else (1,)
        dtype = dt.numpy_of_or_none(feature.dtype) or np.dtype(np.float32)
        out[feature.key] = values(feature.domain, dtype, shape, rng)[0]
    return out
