"""TensorRef: the one place that parses "node", "node:1" and "^ctrl"."""
from __future__ import annotations

from typing import NamedTuple

from graphsurgeon.errors import UsageError


class TensorRef(NamedTuple):
    """Output ``port`` of node ``node``. A NamedTuple: graphs hold one per edge, so it must be cheap."""

    node: str
    port: int = 0

    def __str__(self) -> str:
        return f"{self.node}:{self.port}"

    def as_input(self) -> str:
        """The spelling a NodeDef input uses: port 0 is written bare."""
        return self.node if self.port == 0 else f"{self.node}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> "TensorRef":
        """Parse a user- or NodeDef-supplied ``node`` or ``node:port``."""
        text = text.strip()
        if not text or text.startswith("^"):
            raise UsageError(
                f"{text!r} is not a tensor name: give a node name or node:port, e.g. 'encoder/out' or 'IteratorGetNext:1'"
            )
        node, sep, port = text.rpartition(":")
        if sep and port.isdigit():
            return cls(node, int(port))
        return cls(text, 0)


def split_node_inputs(inputs) -> tuple[tuple[TensorRef, ...], tuple[str, ...]]:
    """Split NodeDef input strings into data inputs and control input names.

    Written as comprehensions over a list: this runs once per node of 100k-node graphs.
    """
    texts = list(inputs)
    if not texts:
        return (), ()
    data = tuple([TensorRef(t) if ":" not in t else TensorRef.parse(t) for t in texts if t[0] != "^"])
    if len(data) == len(texts):
        return data, ()
    return data, tuple([t[1:] for t in texts if t[0] == "^"])
