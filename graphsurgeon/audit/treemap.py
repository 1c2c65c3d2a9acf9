"""Bytes by name scope as nested treemap views, laid out by squarify, for the HTML audit page.

Each view is one scope: its children (sub-scopes, or single tensors) as boxes
sized by bytes, each box split into parts by fate (kept, or why the cut
removes it). Only one view is drawn at a time, and the number of views and of
boxes per view is capped, so a 100,000-node graph stays a small, quick page:
the largest scopes can be opened, the rest are summed up in one box.
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import squarify

from graphsurgeon.audit.report import FatedWeight

WIDTH, HEIGHT = 1200.0, 640.0  # the view's coordinate space; the page's SVG scales it
MAX_BOXES = 40  # per view; the smaller children are summed up in one box
MAX_VIEWS = 300  # scopes that can be opened, the largest first
MIN_SIDE = 0.5  # boxes thinner than this are not drawn


@dataclass
class Scope:
    """A name scope (or one tensor, a leaf) with its bytes by fate."""

    path: str
    label: str
    fates: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    own: dict[str, int] = field(default_factory=dict)  # a tensor named like the scope (w, beside w/Adam)
    tensors: int = 0
    children: dict[str, "Scope"] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return sum(self.fates.values())


def scope_tree(weights: Iterable[FatedWeight]) -> Scope:
    """Every tensor under its name scopes, with bytes by fate summed at each level (no recursion)."""
    root = Scope("", "(all)")
    for fated in weights:
        w = fated.weight
        if w.nbytes <= 0:
            continue
        node, path = root, ""
        node.fates[fated.fate] += w.nbytes
        node.tensors += 1
        for part in w.name.split("/"):
            path = f"{path}/{part}" if path else part
            node = node.children.setdefault(part, Scope(path, part))
            node.fates[fated.fate] += w.nbytes
            node.tensors += 1
        node.own[fated.fate] = node.own.get(fated.fate, 0) + w.nbytes
    return root


def views(root: Scope) -> dict[str, dict]:
    """View id -> its boxes, for the root and the largest scopes below it, breadth first by size."""
    out: dict[str, dict] = {}
    queue: list[tuple[int, int, str, Scope]] = [(-root.nbytes, 0, "", root)]
    order = 0
    while queue and len(out) < MAX_VIEWS:
        _, _, view_id, scope = heapq.heappop(queue)
        boxes, opened = _boxes(scope)
        out[view_id] = {"path": scope.path, "bytes": scope.nbytes, "fates": dict(sorted(scope.fates.items())),
                        "boxes": boxes}
        for child in opened:
            order += 1
            heapq.heappush(queue, (-child.nbytes, order, child.path, child))
    for view in out.values():  # a box opens a view only if that view was laid out
        for box in view["boxes"]:
            box["open"] = box.pop("scope") in out if box.get("scope") is not None else False
    return out


def _boxes(scope: Scope) -> tuple[list[dict], list[Scope]]:
    children = sorted(scope.children.values(), key=lambda c: (-c.nbytes, c.path))
    shown, rest = children[:MAX_BOXES], children[MAX_BOXES:]
    items: list[tuple[str, Scope | None, dict[str, int], int, int]] = [
        (c.label, c, dict(c.fates), c.tensors, len(c.children)) for c in shown]
    if rest:
        fates: defaultdict[str, int] = defaultdict(int)
        for c in rest:
            for fate, n in c.fates.items():
                fates[fate] += n
        items.append((f"{len(rest)} smaller", None, dict(fates), sum(c.tensors for c in rest), 0))
    if scope.own and scope.children:
        items.append((f"{scope.label} itself", None, dict(scope.own), 1, 0))
    items.sort(key=lambda i: -sum(i[2].values()))  # squarify lays out descending sizes (stable: ties keep order)
    rects = _layout([sum(i[2].values()) for i in items], 0.0, 0.0, WIDTH, HEIGHT)
    boxes = []
    for (label, child, fates, tensors, scopes), rect in zip(items, rects):
        if min(rect[2], rect[3]) < MIN_SIDE:
            continue
        box = {"label": label, "path": child.path if child else scope.path, "bytes": sum(fates.values()),
               "tensors": tensors, "scopes": scopes, "rect": _rounded(rect), "parts": _parts(fates, rect),
               "scope": child.path if child is not None and child.children else None}
        boxes.append(box)
    opened = [c for c in shown if c.children]
    return boxes, opened


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
