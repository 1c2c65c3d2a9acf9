"""Model: the one object that flows through load -> freeze -> cut -> prune -> export."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphsurgeon.errors import GraphSurgeonError, MissingAssetError
from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.signatures import user_signatures
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.names import TensorRef


# What a Source's format may be (inspect and audit --json report it as model.format; docs/audit-json.md).
FORMATS = ("graphdef", "checkpoint", "metagraph", "saved_model", "keras_h5", "keras")


@dataclass(frozen=True)
class Source:
    """Where a model came from: the path the user gave and what it was."""

    path: str
    format: str  # one of FORMATS
    checkpoint: str | None = None  # the checkpoint prefix or V1 file pattern, if any
    traced: bool = True  # False: only weights are known (a Keras .h5 read without Keras)
    details: Mapping[str, str] = field(default_factory=dict)  # format facts, e.g. keras_version


@dataclass(frozen=True)
class Asset:
    """A file the graph reads at load time through a string tensor the loader feeds.

    ``tensor`` holds the path; ``filename`` is its name under assets/; ``path`` is
    where the file is now (for a TF1 checkpoint, often a path from another machine).
    """

    tensor: TensorRef
    filename: str
    path: str

    def locate(self, asset_dir: str | None = None) -> Path:
        """Where the file is now: under ``asset_dir`` by its name if there, else at its recorded path."""
        candidates = [Path(asset_dir) / self.filename] if asset_dir else []
        candidates.append(Path(self.path))
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        tried = " or ".join(str(c) for c in candidates)
        raise MissingAssetError(
            f"asset {self.filename!r} read through tensor {self.tensor} is missing: expected {tried}; "
            "pass --asset-dir DIR with the directory that holds it now"
        )


@dataclass(frozen=True)
class Layer:
    """A Keras layer of a traced Keras model: what a user names it by, and the tensors each call made.

    ``name`` is the spelling the user types (a nested layer's is its path, "model/dense", unless its
    own name is unique); ``calls`` holds each call site's output tensors, in call order (a shared
    layer is called several times; ``name@K`` picks call K); ``parent`` is the enclosing sub-model.
    """

    name: str
    class_name: str
    calls: tuple[tuple[TensorRef, ...], ...]
    parent: str | None = None
    mask: tuple[TensorRef | None, ...] = ()  # per call site: the Keras mask its output carries, if any


@dataclass(frozen=True)
class Model:
    """A graph, its lazy weights and the MetaGraph facts that came with it.

    ``variable_keys`` maps variable node names to their checkpoint keys, read
    from the saver's restore ops (they usually, but not always, agree).
    ``inputs`` and ``outputs`` are set by a cut. ``init_ops`` are the nodes the
    source ran once after restoring (table initializers, a main_op's members);
    ``extra_dir`` is a SavedModel source's assets.extra directory. ``layers`` are a
    traced Keras model's layers by name, so a user can name them as inputs and outputs.
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
    assets: tuple[Asset, ...] = ()
    init_ops: tuple[str, ...] = ()
    extra_dir: str | None = None
    layers: Mapping[str, Layer] = field(default_factory=dict)

    @property
    def user_signatures(self) -> dict[str, Any]:
        """The signatures clients call (TensorFlow's hidden ``__`` ones left out), by sorted key."""
        return user_signatures(self.signatures)

    def checkpoint_key(self, variable: str) -> str:
        """The checkpoint key variable node ``variable`` is saved under: the saver's, else a resource
        variable's ``shared_name`` when the checkpoint has it (TF2 Keras saves by it), else its own name."""
        if variable in self.variable_keys:
            return self.variable_keys[variable]
        if self.graph.op_of(variable) == "VarHandleOp":  # the op first: the cut report asks of 200k Consts
            shared = self.graph.attrs_of(variable).get("shared_name")
            if shared is not None and shared.s:
                key = shared.s.decode("utf-8", "replace")
                if key in self.weights:
                    return key
        return variable

    def replace(self, **changes: Any) -> "Model":
        return dataclasses.replace(self, **changes)

    def require_graph(self, what: str) -> None:
        """Surgery needs the computation, not just the weights."""
        if not self.source.traced:
            raise GraphSurgeonError(
                f"cannot {what} {self.source.path}: this model was loaded for its layers and weights (inspect, audit) "
                "but no graph; load it with trace=True (the default) to trace the Keras model"
            )
