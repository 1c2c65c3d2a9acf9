"""An AuditReport as a one-screen summary, then a rich tree and tables."""
from __future__ import annotations

import re

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from graphsurgeon.audit.report import AuditReport
from graphsurgeon.audit.sizes import format_size
from graphsurgeon.audit.tensors import Weight


class ScopedName:
    """A node name in a table cell: wraps after a '/', and inside a part only when that part is wider than
    the whole cell (``decoder/fc/w/Adam`` never becomes ``decoder/fc/w/A`` + ``dam``)."""

    def __init__(self, name: str):
        self.name = name
        self.parts = re.findall(r"[^/]*/|[^/]+", name) or [""]  # each part keeps its trailing '/'

    def __str__(self) -> str:
        return self.name

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(max(cell_len(p) for p in self.parts), cell_len(self.name))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        lines, line = [], ""
        for part in self.parts:
            if line and cell_len(line) + cell_len(part) > width:
                lines.append(line)
                line = ""
            line += part
            while cell_len(line) > width:  # one part wider than the cell: fold it, as nothing else fits
                lines.append(line[:width])
                line = line[width:]
        lines.append(line)
        yield Text("\n".join(lines))


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0.0%"


def print_audit(console: Console, report: AuditReport, by: str) -> None:
    _summary(console, report)
    _groups(console, report, by)
    cut = bool(report.model["outputs"])
    _top(console, report.top, "largest kept" if cut else "largest")
    if cut:
        _top(console, report.top_removed, "largest removed")
        _removable(console, report)
    if report.tables:
        _tables(console, report)
    _risks(console, report)


def _summary(console: Console, report: AuditReport) -> None:
    total, kept, h = report.total, report.kept.bytes, report.headroom
    console.print(f"[bold]{report.model['path']}[/bold] ({report.model['format']}), {report.nodes} nodes")
    console.print(f"total   {format_size(total.total)}: graph proto {format_size(total.graph)}, "
                  f"variables/ {format_size(total.variables)}, assets/ {format_size(total.assets)}")
    if report.model["outputs"]:
        console.print(f"kept    {format_size(kept.total)} ({_pct(kept.total, total.total)}) in {report.kept.nodes} nodes: "
                      f"graph proto {format_size(kept.graph)}, variables/ {format_size(kept.variables)}, "
                      f"assets/ {format_size(kept.assets)}")
        console.print(f"removes {format_size(report.removable.bytes.total)} in {report.removable.nodes} nodes")
    console.print(f"headroom: saved_model.pb ~{format_size(h.saved_model_pb_bytes)} (limit 1 GiB), "
                  f"frozen GraphDef ~{format_size(h.frozen_graph_def_bytes)} (limit 2 GiB)")
    for note in h.notes:
        console.print(f"  {note}")
    console.print(f"risks: {len(report.risks)}" + ("" if report.risks else " (none found)"))
    if report.budget is not None:
        verdict = "[green]within[/green]" if report.budget.ok else "[red]OVER[/red]"
        console.print(f"budget: kept {format_size(report.budget.kept)} is {verdict} {format_size(report.budget.limit)}")


def _groups(console: Console, report: AuditReport, by: str) -> None:
    if by == "scope":
        tree = Tree("[bold]bytes by name scope[/bold]")
        stack = [(tree, g) for g in report.groups]
        while stack:  # iterative: scope trees can be deep
            parent, group = stack.pop(0)
            branch = parent.add(f"{group['name']}  {format_size(group['nbytes'])} ({group['count']})")
            stack[0:0] = [(branch, child) for child in group["children"]]
        console.print(tree)
        return
    table = Table(title=f"bytes by {by}", title_justify="left")
    table.add_column(by, overflow="fold")
    for column in ("tensors", "bytes"):
        table.add_column(column, justify="right")
    for group in report.groups:
        table.add_row(ScopedName(group["name"]), str(group["count"]), format_size(group["nbytes"]))
    console.print(table)


def _top(console: Console, weights: list[Weight], title: str) -> None:
    if not weights:
        return
    table = Table(title=f"{title} {len(weights)}", title_justify="left")
    table.add_column("name", overflow="fold")  # never cut: three 'decoder/up0/k…' rows say nothing
    for column in ("kind", "dtype", "shape", "where"):
        table.add_column(column, overflow="fold")
    table.add_column("bytes", justify="right", overflow="fold")
    for w in weights:
        table.add_row(ScopedName(w.name), w.kind, w.dtype, "?" if w.shape is None else str(w.shape), w.storage,
                      format_size(w.nbytes))
    console.print(table)


def _removable(console: Console, report: AuditReport, top: int = 15) -> None:
    table = Table(title="removable", title_justify="left")
    table.add_column("group", overflow="fold")
    table.add_column("why")
    for column in ("nodes", "bytes"):
        table.add_column(column, justify="right")
    for g in report.removable_groups[:top]:
        table.add_row(ScopedName(g.group), g.reason, str(g.nodes), format_size(g.nbytes))
    if len(report.removable_groups) > top:
        rest = report.removable_groups[top:]
        table.add_row(f"... {len(rest)} more", "", str(sum(g.nodes for g in rest)), format_size(sum(g.nbytes for g in rest)))
    console.print(table)


def _tables(console: Console, report: AuditReport) -> None:
    table = Table(title="lookup tables", title_justify="left")
    for column in ("table", "initializer", "asset"):
        table.add_column(column, overflow="fold")
    for t in report.tables:
        table.add_row(t["table"], f"{t['initializer']} ({t['op']})", t["asset"] or "-")
    console.print(table)


def _risks(console: Console, report: AuditReport) -> None:
    for risk in report.risks:
        console.print(f"[red]risk[/red] {risk.kind}: {risk.message}\n     fix: {risk.fix}")
