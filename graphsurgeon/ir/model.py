"""Model: the one object that flows through load -> freeze -> cut -> prune -> export."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.names import TensorRef


@dataclass(frozen=True)
class Source:
    """Where a model came from: the path the user gave and what it was."""

    path: str
    format: str  # "graphdef", "checkpoint", "metagraph", "saved_model"
    checkpoint: str | None = None  # the checkpoint prefix or V1 file pattern, if any


@dataclass(frozen=True)
class Model:
    """A graph, its lazy weights and the MetaGraph facts that came with it.

    ``variable_keys`` maps variable node names to their checkpoint keys, read
    from the saver's restore ops (they usually, but not always, agree).
    ``inputs`` and ``outputs`` are set by a cut.
    """

    graph: Graph
    weights: WeightStore = field(default_factory=WeightStore)
    source: Source = Source("", "graphdef")
    variable_keys: Mapping[str, str] = field(default_factory=dict)
    collections: Mapping[str, Any] = field(default_factory=dict)  # name -> CollectionDef
    signatures: Mapping[str, Any] = field(default_factory=dict)  # key -> SignatureDef
    saver_def: Any = None
    meta_info: Any = None
    inputs: tuple[TensorRef, ...] = ()
    outputs: tuple[TensorRef, ...] = ()

    def replace(self, **changes: Any) -> "Model":
        return dataclasses.replace(self, **changes)
