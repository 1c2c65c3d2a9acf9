"""TensorRef: the one place that parses "node", "node:1" and "^ctrl"."""
from __future__ import annotations

from collections.abc import Iterable
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


def split_node_inputs(inputs: Iterable[str], refs: dict[str, TensorRef] | None = None,
                      ) -> tuple[tuple[TensorRef, ...], tuple[str, ...]]:
    """Split NodeDef input strings into data inputs and control input names.

    Runs once per node of 100k-node graphs, so it is written for speed: ``refs``
    (shared across one graph's nodes) parses each input string once, and a
    tensor read by many nodes is one TensorRef. An empty string stays an empty
    node name, for the caller's checks to name.
    """
    texts = list(inputs)
    if not texts:
        return (), ()
    if refs is None:
        refs = {}
    get = refs.get
    data = tuple([get(t) or _node_input_ref(t, refs) for t in texts if t[:1] != "^"])
    if len(data) == len(texts):
        return data, ()
    return data, tuple([t[1:] for t in texts if t[:1] == "^"])


_new_tuple = tuple.__new__


def _node_input_ref(text: str, refs: dict[str, TensorRef]) -> TensorRef:
    """A NodeDef's own spelling, which TensorFlow wrote: no stripping, port 0 bare."""
    node, sep, port = text.rpartition(":")
    ref = _new_tuple(TensorRef, (node, int(port))) if sep and port.isdigit() else _new_tuple(TensorRef, (text, 0))
    refs[text] = ref
    return ref
