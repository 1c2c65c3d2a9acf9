"""The audit's tables at 80 columns: names wrap at '/', never inside a part."""
from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

import graphsurgeon as gs
from graphsurgeon.audit.render import ScopedName


def _first_column(text: str) -> list[str]:
    return [line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│")]


def _names(pieces: list[str]) -> list[str]:
    """Pieces of wrapped names joined back: a piece ending in '/' continues on the next line."""
    names, current = [], ""
    for piece in pieces:
        current += piece
        if not piece.endswith("/"):
            names.append(current)
            current = ""
    return names


def test_scoped_names_break_after_a_slash():
    console = Console(file=io.StringIO(), width=40, highlight=False)
    table = Table()
    table.add_column("name", overflow="fold")
    table.add_column("a", min_width=12)
    table.add_column("b", min_width=12)
    table.add_row(ScopedName("decoder/fc/w/Adam_1"), "x", "y")
    console.print(table)
    pieces = _first_column(console.file.getvalue())
    assert len(pieces) > 1 and "".join(pieces) == "decoder/fc/w/Adam_1"
    assert all(piece.endswith("/") for piece in pieces[:-1]) and pieces[-1] == "Adam_1"


def test_a_part_wider_than_the_cell_is_folded():
    console = Console(file=io.StringIO(), width=20, highlight=False)
    table = Table()
    table.add_column("name", overflow="fold", max_width=8)
    table.add_row(ScopedName("scope/averyveryverylongpart"))
    console.print(table)
    assert "".join(_first_column(console.file.getvalue())) == "scope/averyveryverylongpart"


def test_audit_at_80_columns_wraps_names_whole(cli, generated, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = cli("audit", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out").out
    largest = out[out.index("largest kept"):out.index("removable")]
    names = _names(_first_column(largest))
    weights = {name for name, _ in gs.load(generated / "encoder_decoder").graph.name_ops()}
    assert "decoder/fc/w/Adam_1" in names
    assert set(names) - {"name"} <= weights  # every wrapped name is whole: no 'decoder/fc/w/A' + 'dam'
