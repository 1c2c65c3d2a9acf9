"""Bytes by name scope as nested treemap views, laid out by squarify, for the HTML audit page.

Each view is one scope: its children (sub-scopes, or single tensors) as boxes
sized by bytes, each box split into parts by fate (kept, or why the cut
removes it). A scope with more children than a view shows (layer0 ...
layer17999) is shown as ranges of them in name order, each a box that opens
onto its range, so every byte can be reached in a few clicks. Only one view is
drawn at a time, and the views laid out are capped (largest first), so a
100,000-node graph gives a small, quick page.
"""
from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import squarify

from graphsurgeon.audit.report import FatedWeight

WIDTH, HEIGHT = 1200.0, 600.0  # the view's coordinate space; the page's SVG scales it
MAX_BOXES = 40  # per view: more children than this are shown as ranges
MAX_LAID_OUT = 2000  # boxes over all views; the largest scopes are laid out first
MIN_SIDE = 0.5  # boxes thinner than this are not drawn


@dataclass(slots=True)
class Scope:
    """A name scope (or one tensor, a leaf, or a range of a scope's children) with its bytes by fate."""

    path: str  # the view id: the scope's name, or for a range its parent's name and the range
    label: str
    fates: dict[str, int] = field(default_factory=dict)
    own: dict[str, int] = field(default_factory=dict)  # a tensor named like the scope (w, beside w/Adam)
    tensors: int = 0
    children: dict[str, "Scope"] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return sum(self.fates.values())


def scope_tree(weights: Iterable[FatedWeight]) -> Scope:
    """Every tensor under its name scopes, with bytes by fate summed at each level (no recursion)."""
    root = Scope("", "all scopes")
    for fated in weights:
        w = fated.weight
        if w.nbytes <= 0:
            continue
        fate, nbytes = fated.fate, w.nbytes
        node, path = root, ""
        _add(node.fates, fate, nbytes)
        node.tensors += 1
        for part in w.name.split("/"):
            path = f"{path}/{part}" if path else part
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = Scope(path, part)
            node = child
            _add(node.fates, fate, nbytes)
            node.tensors += 1
        _add(node.own, fate, nbytes)
    return root


def _add(counts: dict[str, int], key: str, n: int) -> None:
    counts[key] = counts.get(key, 0) + n


def views(root: Scope) -> dict[str, dict]:
    """View id -> its boxes and the trail back to the root, for the root and the largest scopes below it."""
    out: dict[str, dict] = {}
    trails = {root.path: [[root.label, root.path]]}
    queue: list[tuple[int, int, Scope]] = [(-root.nbytes, 0, root)]
    laid_out = order = 0
    while queue and laid_out < MAX_LAID_OUT:
        _, _, scope = heapq.heappop(queue)
        shown = _shown(scope)
        boxes = _boxes(scope, shown)
        laid_out += len(boxes)
        out[scope.path] = {"label": scope.label, "bytes": scope.nbytes, "trail": trails[scope.path], "boxes": boxes}
        for child in shown:
            if child.children and child.path not in trails:
                order += 1
                trails[child.path] = trails[scope.path] + [[child.label, child.path]]
                heapq.heappush(queue, (-child.nbytes, order, child))
    for view in out.values():  # a box opens a view only if that view was laid out
        for box in view["boxes"]:
            box["open"] = box.pop("opens") and box["path"] in out
    return out


def _shown(scope: Scope) -> list[Scope]:
    """The boxes of a scope's view: its children, ranges of them when there are too many, and its own tensor."""
    children = sorted(scope.children.values(), key=lambda c: _natural(c.label))
    if len(children) > MAX_BOXES:
        children = _ranges(scope, children)
    if scope.own and scope.children:
        children.append(Scope(scope.path, f"{scope.label} itself", dict(scope.own), tensors=1))
    return children


def _ranges(scope: Scope, children: list[Scope]) -> list[Scope]:
    """Children in name order, cut into at most MAX_BOXES ranges of equal count (each opens onto its own)."""
    size = math.ceil(len(children) / MAX_BOXES)
    ranges = []
    for start in range(0, len(children), size):
        chunk = children[start:start + size]
        label = f"{chunk[0].label} … {chunk[-1].label}" if len(chunk) > 1 else chunk[0].label
        bucket = Scope(f"{scope.path}/[{label}]", f"{label} ({len(chunk)})")
        for child in chunk:
            bucket.children[child.label] = child
            bucket.tensors += child.tensors
            for fate, n in child.fates.items():
                _add(bucket.fates, fate, n)
        ranges.append(bucket if len(chunk) > 1 else chunk[0])
    return ranges


def _natural(label: str) -> list:
    """layer2 before layer10."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", label)]


def _boxes(scope: Scope, shown: list[Scope]) -> list[dict]:
    ordered = sorted(shown, key=lambda c: -c.nbytes)  # squarify lays out descending sizes (ties keep name order)
    rects = _layout([c.nbytes for c in ordered], 0.0, 0.0, WIDTH, HEIGHT)
    boxes = []
    for child, rect in zip(ordered, rects):
        if min(rect[2], rect[3]) < MIN_SIDE:
            continue
        boxes.append({"label": child.label, "path": child.path, "bytes": child.nbytes, "tensors": child.tensors,
                      "scopes": len(child.children), "rect": _rounded(rect), "parts": _parts(child.fates, rect),
                      "opens": bool(child.children) and child.path != scope.path})
    return boxes


def _parts(fates: dict[str, int], rect: tuple[float, float, float, float]) -> list[dict]:
    """The box split by fate, largest first."""
    ordered = sorted(((n, f) for f, n in fates.items() if n > 0), key=lambda t: (-t[0], t[1]))
    rects = _layout([n for n, _ in ordered], *rect)
    return [{"fate": fate, "bytes": n, "rect": _rounded(r)} for (n, fate), r in zip(ordered, rects)]


def _layout(sizes: list[int], x: float, y: float, dx: float, dy: float) -> list[tuple[float, float, float, float]]:
    """squarify's rectangles for ``sizes`` (descending, positive) filling the box."""
    if not sizes or dx <= 0 or dy <= 0:
        return []
    normed = squarify.normalize_sizes(sizes, dx, dy)
    return [(r["x"], r["y"], r["dx"], r["dy"]) for r in squarify.squarify(normed, x, y, dx, dy)]


def _rounded(rect: tuple[float, float, float, float]) -> list[float]:
    return [round(v, 1) for v in rect]
