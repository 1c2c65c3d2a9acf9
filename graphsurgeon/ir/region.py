"""Region: a box in a tensor, as a partitioned variable's part or a checkpoint's saved slice."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """A box in a tensor: where it starts and how long it is in every dimension."""

    offset: tuple[int, ...]
    shape: tuple[int, ...]

    def overlap(self, other: "Region") -> "Region | None":
        starts = tuple(max(a, b) for a, b in zip(self.offset, other.offset))
        ends = tuple(min(a + n, b + m) for a, n, b, m in zip(self.offset, self.shape, other.offset, other.shape))
        if any(e <= s for s, e in zip(starts, ends)):
            return None
        return Region(starts, tuple(e - s for s, e in zip(starts, ends)))

    def within(self, outer: "Region") -> tuple[slice, ...]:
        """This region as numpy indices into ``outer``'s array."""
        return tuple(slice(s - o, s - o + n) for s, o, n in zip(self.offset, outer.offset, self.shape))

    @classmethod
    def whole(cls, shape: tuple[int, ...]) -> "Region":
        return cls((0,) * len(shape), tuple(shape))
