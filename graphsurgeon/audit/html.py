"""An AuditReport as one self-contained HTML page: the cut's boundary and totals, a treemap of bytes by
name scope coloured by fate, the risks with their fixes, and the largest tensors kept and removed.

No network: styles, script and data are inline, and the page's Content-Security-Policy forbids loading
anything. The numbers in the page are the report's, the same that --json prints.
"""
from __future__ import annotations

import html
import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from graphsurgeon.audit.report import AuditReport, Storage
from graphsurgeon.audit.sizes import format_size
from graphsurgeon.audit.split import KEPT, NOT_NEEDED, STRIPPED, TRAINING_ONLY, UPSTREAM_OF_INPUTS
from graphsurgeon.audit.tensors import Weight
from graphsurgeon.audit.treemap import HEIGHT, WIDTH, scope_tree, views
from graphsurgeon.exporters.atomic import atomic_file

FATE_COLORS = {KEPT: "#2e9d5b", TRAINING_ONLY: "#e07b39", UPSTREAM_OF_INPUTS: "#8e6cc9",
               NOT_NEEDED: "#6f87a8", STRIPPED: "#a9b0ba"}
FATE_TEXT = {KEPT: "kept", TRAINING_ONLY: "removed: training only", UPSTREAM_OF_INPUTS: "removed: upstream of the inputs",
             NOT_NEEDED: "removed: not needed by the outputs", STRIPPED: "removed: stripped by the cut"}


def write_html(report: AuditReport, path: Path, force: bool = False) -> Path:
    """Write the page atomically; an existing file is replaced only with ``force``."""
    page = render_html(report)
    with atomic_file(path, force) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def render_html(report: AuditReport) -> str:
    template = resources.files("graphsurgeon.audit").joinpath("page.html").read_text(encoding="utf-8")
    root = scope_tree(report.weights)
    parts = {
        "<!--TITLE-->": _text(f"graphsurgeon audit: {report.model['path']}"),
        "<!--MODEL-->": _text(f"{report.model['path']} ({report.model['format']}), {report.nodes} nodes"),
        "<!--BOUNDARY-->": _boundary(report),
        "<!--LEGEND-->": _legend(dict(root.fates)),
        "<!--RISKS-->": _risks(report),
        "<!--LARGEST-->": _largest(report.top, "Largest kept", "largest-kept")
                          + _largest(report.top_removed, "Largest removed", "largest-removed"),
        "<!--WIDTH-->": f"{WIDTH:g}", "<!--HEIGHT-->": f"{HEIGHT:g}",
        "<!--DATA-->": _data(views(root)),
    }
    for marker, value in parts.items():
        template = template.replace(marker, value)
    return template


def _text(value: object) -> str:
    return html.escape(str(value))


def _codes(names: Iterable[str]) -> str:
    return ", ".join(f"<code>{_text(n)}</code>" for n in names) or "none"


def _boundary(report: AuditReport) -> str:
    model = report.model
    rows = [_total_row("kept", "kept", report.kept.nodes, report.kept.bytes)]
    if model["outputs"]:
        rows.append(_total_row("removed", "removed", report.removable.nodes, report.removable.bytes))
    rows.append(_total_row("total", "source total", report.nodes, report.total))
    notes = [f'<p class="note">{_text(n)}</p>' for n in report.headroom.notes]
    if report.budget is not None:
        verdict = "within" if report.budget.ok else "OVER"
        notes.append(f'<p class="note" id="budget" data-ok="{str(report.budget.ok).lower()}">budget: kept '
                     f"{format_size(report.budget.kept)} is {verdict} {format_size(report.budget.limit)}</p>")
    return (f'<dl><dt>inputs</dt><dd id="inputs">{_codes(model["inputs"])}</dd>'
            f'<dt>outputs</dt><dd id="outputs">{_codes(model["outputs"]) if model["outputs"] else "none: the whole model"}'
            "</dd></dl>"
            '<table id="totals"><tr><th></th><th>nodes</th><th>bytes</th><th>graph proto</th><th>variables/</th>'
            f'<th>assets/</th></tr>{"".join(rows)}</table>{"".join(notes)}')


def _total_row(row_id: str, label: str, nodes: int, storage: Storage) -> str:
    cells = "".join(f'<td class="n" data-bytes="{n}">{format_size(n)}</td>'
                    for n in (storage.total, storage.graph, storage.variables, storage.assets))
    return f'<tr id="{row_id}"><td>{label}</td><td class="n" data-nodes="{nodes}">{nodes}</td>{cells}</tr>'


def _legend(fates: dict[str, int]) -> str:
    return "".join(f'<span class="fate" data-fate="{_text(fate)}" data-bytes="{fates.get(fate, 0)}">'
                   f'<i class="swatch" style="background:{color}"></i>{_text(FATE_TEXT[fate])} '
                   f"{format_size(fates.get(fate, 0))}</span>"
                   for fate, color in FATE_COLORS.items() if fate == KEPT or fates.get(fate))


def _risks(report: AuditReport) -> str:
    items = [f'<div class="risk"><b>{_text(r.kind)}</b>: {_text(r.message)}<br>'
             f'<span class="fix">fix: {_text(r.fix)}</span></div>' for r in report.risks]
    return f'<h2>Risks ({len(report.risks)})</h2>' + ("".join(items) or '<p class="note">none found</p>')


def _largest(weights: list[Weight], title: str, table_id: str) -> str:
    if not weights:
        return ""
    rows = "".join(f'<tr><td class="name"><code>{_text(w.name)}</code></td><td>{_text(w.dtype)}</td>'
                   f'<td>{_text("?" if w.shape is None else w.shape)}</td><td>{_text(w.storage)}</td>'
                   f'<td class="n" data-bytes="{w.nbytes}">{format_size(w.nbytes)}</td></tr>' for w in weights)
    return (f'<div><h2>{title}</h2><table id="{table_id}"><tr><th>name</th><th>dtype</th><th>shape</th>'
            f"<th>where</th><th>bytes</th></tr>{rows}</table></div>")


def _data(laid_out: dict[str, dict]) -> str:
    fates = list(FATE_COLORS)
    for view in laid_out.values():
        for box in view["boxes"]:
            box["size"] = format_size(box["bytes"])
            # [fate, bytes, size, rect]: a 100k-node graph's page holds thousands of these
            box["parts"] = [[fates.index(p["fate"]), p["bytes"], format_size(p["bytes"]), p["rect"]]
                            for p in box["parts"]]
    data = {"views": laid_out, "fates": fates, "colors": list(FATE_COLORS.values()), "reasons": list(FATE_TEXT.values())}
    # Inside <script>, "</" could close the element early: JSON allows the escaped form.
    return json.dumps(data, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")
