"""The one family of errors graphsurgeon raises for bad input.

A ``GraphSurgeonError`` is the user's problem (a wrong name, a missing file) and
the CLI prints it as one line with exit code 1. Anything else that escapes is a
bug in graphsurgeon and keeps its traceback.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class GraphSurgeonError(Exception):
    """Bad input: says what happened, which name, and how to fix it."""

    node = ""  # the node to blame, when there is one (a plan's refusals name theirs)


class LoadError(GraphSurgeonError):
    """A model file is missing, truncated or of an unknown kind."""


class CorruptCheckpointError(LoadError):
    """A checkpoint tensor's bytes do not match its index entry (checksum, size, dtype or shape)."""


class NameNotFoundError(GraphSurgeonError):
    """A node or tensor name that the model does not have."""


class CutError(GraphSurgeonError):
    """The requested inputs and outputs do not describe a valid subgraph; ``node`` is where, when one is to blame."""

    def __init__(self, message: str, node: str = ""):
        super().__init__(message)
        self.node = node


class FreezeError(GraphSurgeonError):
    """A variable cannot be turned into a constant."""


class OutputExistsError(GraphSurgeonError):
    """The output path exists and --force was not given."""


class WriteError(GraphSurgeonError):
    """The output cannot be written (permissions, disk, size limits)."""


class UnloadableOutputError(WriteError):
    """What was about to be published is something TensorFlow's loader would refuse."""


class MissingAssetError(GraphSurgeonError):
    """A file the model reads at load time is not where it is expected."""


class UsageError(GraphSurgeonError):
    """An option value that cannot be parsed."""


def close_matches(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """The candidates closest to ``name``, best first (difflib ratio >= 0.6)."""
    candidates = list(candidates)
    matches = difflib.get_close_matches(name, candidates, n=limit, cutoff=0.6)
    if not matches:
        # A user often types only the last scope component ("out" for
        # "encoder/out"); suffix matches catch that where ratios do not.
        matches = sorted(c for c in candidates if c.endswith("/" + name))[:limit]
    return matches


def first_line(err: BaseException) -> str:
    """An exception's message in one line (TensorFlow's errors keep theirs in ``message``)."""
    lines = str(getattr(err, "message", err)).strip().splitlines()
    return lines[0] if lines else type(err).__name__
