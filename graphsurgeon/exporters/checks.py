"""Checks of what an export publishes beside its graph: its signatures and its warmup requests.

Each is a mistake TensorFlow's loader or Serving refuses, found here first and
reported as one line naming the tensor and the fix. The graph itself is
validated by graphsurgeon.ir.validate, once.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graphsurgeon import defaults
from graphsurgeon.errors import UnloadableOutputError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.signatures import INIT_SIGNATURE
from graphsurgeon.ir.tensors import to_proto
from graphsurgeon.names import TensorRef

# How to fix a graph that ir.validate refuses at export: the graph is the source's, or the cut's.
UNLOADABLE_FIX = "fix the graph's producer, or cut the node away (--inputs/--outputs)"


def check_signatures(graph_def: Any, signature_defs: Mapping[str, Any], where: str) -> None:
    """Every signature tensor exists, and none is both fed and fetched (Session::Run refuses that)."""
    names = {nd.name for nd in graph_def.node}
    for key, sig in sorted(signature_defs.items()):
        for side, tensors in (("input", sig.inputs), ("output", sig.outputs)):
            for tensor_key, info in sorted(tensors.items()):
                if info.name and TensorRef.parse(info.name).node not in names:
                    raise UnloadableOutputError(
                        f"{where}: signature {key!r} {side} {tensor_key!r} names {info.name}, which the graph lacks; "
                        "choose tensors that survive the cut")
        fed = {info.name: k for k, info in sig.inputs.items()}
        for out_key, info in sorted(sig.outputs.items()):
            if info.name in fed and key != INIT_SIGNATURE:
                raise UnloadableOutputError(
                    f"{where}: signature {key!r} feeds {info.name} (input {fed[info.name]!r}) and fetches it "
                    f"(output {out_key!r}), which TensorFlow refuses ('is both fed and fetched'); "
                    "drop it from --outputs, or cut the output after the input")


def check_warmup(requests: Sequence[Mapping[str, np.ndarray]], signature_def: Any, where: str) -> None:
    """Warmup requests Serving replays at load must use the signature's keys and dtypes."""
    expected = {key: info.dtype for key, info in signature_def.inputs.items()}
    for request in requests:
        if set(request) != set(expected):
            raise UnloadableOutputError(
                f"{where}: --warmup arrays have keys {sorted(request)}, but {defaults.DEFAULT_SIGNATURE} takes "
                f"{sorted(expected)}; "
                "name the arrays in the .npz after the signature's input keys")
        for key, value in sorted(request.items()):
            stored = to_proto(value).dtype
            if stored != expected[key]:
                raise UnloadableOutputError(
                    f"{where}: --warmup array {key!r} is {dt.name_of(stored)}, but {defaults.DEFAULT_SIGNATURE}'s "
                    f"input {key!r} "
                    f"is {dt.name_of(expected[key])}; save the array as {dt.name_of(expected[key])}")
        return  # every request has the same keys and dtypes (one .npz row each)
