"""The smallest size for unknown dimensions at which every output of a signature is non-empty.

A convolution window, a stride or a crop makes small inputs fail or give
empty outputs (an InceptionV3 needs 75x75; a dilated convolution that crops
5,000 steps on each side needs 10,001). TensorFlow's shape inference answers
without running anything: the signature's inputs are given the candidate
size, and a size is too small when inference fails or an output has a zero
dimension. Sizes double until one fits, then bisect down to the smallest.
A size that must equal another (the inner dimension of a MatMul) is not
found by growing: inference names it ("must be equal, but are 2 and 784"),
and that size is tried as it is. So is the size a Reshape asks for: "Cannot
reshape a tensor with 8 elements to shape [2,28,28] (1568 elements)" at size 4
names 784, and "must be evenly divisible by 24 but is 4" for a [2, 2] input
names 24: the smallest size whose rows fill whole blocks, so every batch does.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from graphsurgeon.ir.model import Model
from graphsurgeon.ir.proto import to_graph_def
from graphsurgeon.names import TensorRef
from graphsurgeon.tf import runtime
from graphsurgeon.tf.protos import shape_proto

START = 2
LIMIT = 1 << 17
EQUAL = re.compile(r"must be equal, but are (\d+) and (\d+)")  # TensorFlow's shape-merge error
# Reshape's: rows flattened to a fixed size (28x28 pixels) need that many values per row
RESHAPE = re.compile(r"Cannot reshape a tensor with (\d+) elements to shape \[[^\]]*\] \((\d+) elements\)")
# ... and to a shape with a -1: each row's values must fill whole [4, 6] blocks
DIVISIBLE = re.compile(r"must be evenly divisible by (\d+) but is (\d+)")


def smallest_size(model: Model, key: str, shapes: Mapping[str, tuple[int, ...]], free: int,
                  batch: int | None) -> int | None:
    """The smallest size >= START for the ``free`` dims of ``shapes`` (by input key) at which every output of
    signature ``key`` is non-empty, with ``batch`` for their -1 dims (None: left unknown); None if no size
    up to LIMIT is. With no ``free`` dim, START if the shapes fit at all. An input that is not a Placeholder
    (a tensor a signature feeds) is left as it is."""
    sig = model.signatures[key]
    graph_def = to_graph_def(model.graph, model.weights, lazy_as_placeholders=True)
    nodes = {nd.name: nd for nd in graph_def.node}
    placeholders = {}
    for input_key in shapes:
        node = nodes.get(TensorRef.parse(sig.inputs[input_key].name).node)
        if node is not None and node.op == "Placeholder":
            placeholders[input_key] = node
    outputs = [info.name for _, info in sorted(sig.outputs.items()) if info.name]

    def fits(size: int) -> tuple[bool, set[int]]:
        for input_key, node in placeholders.items():
            dims = [size if d == free else (batch or -1) if d == -1 else d for d in shapes[input_key]]
            node.attr["shape"].shape.CopyFrom(shape_proto(dims))
        ok, equal, reshaped, blocks = _non_empty(graph_def, outputs)
        scaled = {size * need // have for have, need in reshaped if have and size * need % have == 0}
        rows = batch or 1
        filled = {size * block // math.gcd(have // rows if have % rows == 0 else have, block)
                  for block, have in blocks if block}
        return ok, equal | scaled | filled

    if not any(free in shape for shape in shapes.values()):
        return START if fits(START)[0] else None
    return _search(fits)


def _search(fits: Callable[[int], tuple[bool, set[int]]]) -> int | None:
    """Double from START until a size fits, then bisect; a size inference says must be equal is tried first."""
    size, tried = START, set[int]()
    while True:
        ok, named = fits(size)
        tried.add(size)
        if ok:
            break
        exact = sorted(s for s in named if s >= START and s not in tried)
        for candidate in exact:
            tried.add(candidate)
            if fits(candidate)[0]:
                return candidate
        if size >= LIMIT:
            return None
        size *= 2
    low = size // 2  # too small (or below START)
    while size - low > 1 and size > START:
        middle = (low + size) // 2
        low, size = (low, middle) if fits(middle)[0] else (middle, size)
    return size


def _non_empty(graph_def: Any, outputs: list[str]
               ) -> tuple[bool, set[int], set[tuple[int, int]], set[tuple[int, int]]]:
    """(every output non-empty, and when inference refused: the sizes it said must be equal, the (elements
    given, elements wanted) of a Reshape, and the (block, elements given) of a Reshape with a -1)."""
    try:
        shapes = runtime.static_shapes(graph_def, outputs)
    except runtime.import_error() as err:
        text = str(err)
        return (False, {int(n) for pair in EQUAL.findall(text) for n in pair},
                {(int(have), int(need)) for have, need in RESHAPE.findall(text)},
                {(int(block), int(have)) for block, have in DIVISIBLE.findall(text)})
    return all(shape is None or 0 not in shape for shape in shapes), set(), set(), set()
