"""audit --html: one self-contained page, opened in headless Chromium; its numbers are audit --json's."""
from __future__ import annotations

import html.parser
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon.audit.html import FATE_COLORS, render_html
from graphsurgeon.audit.report import audit
from graphsurgeon.audit.split import KEPT
from graphsurgeon.audit.treemap import MAX_BOXES, MAX_LAID_OUT
from tests import graphs
from tests.audit.schema import audit_json

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                    "(apt-get install -y chromium; .ci/run installs it)")
CUT = ("--inputs", "images_ph", "--outputs", "encoder/out")


def _chromium(tmp_path: Path, *args: str) -> str:
    """Headless Chromium, as CI runs it: no sandbox, GPU, network chatter or first-run; a fresh profile."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Elements(html.parser.HTMLParser):
    """Every element's tag and attributes, in document order."""

    def __init__(self, page: str):
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))


def _totals_row(elements: _Elements, row_id: str) -> tuple[int, int]:
    """(nodes, bytes) of a row of the page's totals table."""
    start = next(i for i, (tag, attrs) in enumerate(elements.elements) if tag == "tr" and attrs.get("id") == row_id)
    cells = [attrs for tag, attrs in elements.elements[start + 1:start + 4] if tag == "td"]
    return int(cells[1]["data-nodes"]), int(cells[2]["data-bytes"])


def _page(cli, generated, tmp_path) -> tuple[Path, dict]:
    page = tmp_path / "audit.html"
    result = cli("audit", generated / "encoder_decoder", *CUT, "--html", page, "--json")
    assert result.code == 0, result.err
    return page, audit_json(result.out)


def test_page_is_self_contained_and_small(cli, generated, tmp_path):
    page, _ = _page(cli, generated, tmp_path)
    text = page.read_text()
    assert page.stat().st_size < 1_000_000
    assert "Content-Security-Policy" in text and "default-src 'none'" in text  # the browser may fetch nothing
    # The only URL is the SVG namespace the script names elements with; nothing is loaded from anywhere.
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) == {"http://www.w3.org/2000/svg"}
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)|@import|url\(""", text)


def test_page_is_written_once_unless_forced(cli, generated, tmp_path):
    page, _ = _page(cli, generated, tmp_path)
    page.write_text("mine")
    refused = cli("audit", generated / "encoder_decoder", *CUT, "--html", page)
    assert refused.code == 1 and "--force" in refused.err and page.read_text() == "mine"
    assert cli("audit", generated / "encoder_decoder", *CUT, "--html", page, "--force").code == 0
    assert page.read_text().startswith("<!doctype html>")


def test_page_is_deterministic(generated):
    model = gs.load(generated / "encoder_decoder")
    assert render_html(audit(model, ["images_ph"], ["encoder/out"])) == \
        render_html(audit(model, ["images_ph"], ["encoder/out"]))


@needs_chromium
def test_chromium_draws_the_page_and_its_numbers_are_the_json(cli, generated, tmp_path):
    page, report = _page(cli, generated, tmp_path)
    dom = _Elements(_chromium(tmp_path, "--dump-dom", page.as_uri()))
    kept, removed = report["kept"], report["removable"]
    assert _totals_row(dom, "kept") == (kept["nodes"], sum(kept["bytes"].values()))
    assert _totals_row(dom, "removed") == (removed["nodes"], sum(removed["bytes"].values()))
    assert _totals_row(dom, "total") == (report["nodes"], sum(report["total"].values()))
    legend = {a["data-fate"]: int(a["data-bytes"]) for tag, a in dom.elements if "data-fate" in a and tag == "span"}
    assert legend[KEPT] == sum(kept["bytes"].values())
    assert sum(legend.values()) == sum(kept["bytes"].values()) + sum(removed["bytes"].values())
    # The script ran: the treemap's boxes are in the DOM, each split into parts by fate.
    boxes = [a for tag, a in dom.elements if tag == "g" and "box" in a.get("class", "")]
    parts = [a for tag, a in dom.elements if tag == "rect" and "data-fate" in a]
    assert {b["data-path"] for b in boxes} >= {"encoder", "decoder"}
    assert {p["data-fate"] for p in parts} >= {KEPT, "training only", "not needed by the outputs"}
    codes = [a for tag, a in dom.elements if tag == "code"]
    assert codes  # the inputs and outputs


@needs_chromium
def test_a_scope_opens_from_the_page_address(cli, generated, tmp_path):
    page, report = _page(cli, generated, tmp_path)
    dom = _Elements(_chromium(tmp_path, "--dump-dom", page.as_uri() + "#encoder%2Ffc"))
    svg = next(a for tag, a in dom.elements if tag == "svg")
    assert svg["data-view"] == "encoder/fc"
    boxes = {a["data-path"]: int(a["data-bytes"]) for tag, a in dom.elements if tag == "g"}
    assert set(boxes) == {"encoder/fc/w", "encoder/fc/b"}
    # the variable, its two Adam slots and its initializer's constants
    assert 3 * 2048 * 128 * 4 < boxes["encoder/fc/w"] < 3 * 2048 * 128 * 4 + 100


@needs_chromium
def test_chromium_screenshot_shows_the_treemap(cli, generated, tmp_path):
    image = pytest.importorskip("PIL.Image", reason="Pillow (the test extra) reads the screenshot")
    page, _ = _page(cli, generated, tmp_path)
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1000", "--hide-scrollbars", page.as_uri())
    pixels = image.open(shot).convert("RGB")
    colors = pixels.getcolors(maxcolors=1 << 20)
    assert len(colors) > 50  # text, tables and boxes, not a blank page
    counts = {rgb: n for n, rgb in colors}
    for fate in (KEPT, "training only"):
        rgb = tuple(int(FATE_COLORS[fate][i:i + 2], 16) for i in (1, 3, 5))
        assert counts.get(rgb, 0) > 5000, f"no {fate} box drawn"


def test_a_wide_graph_opens_in_ranges_and_gives_a_bounded_page(tmp_path):
    """1000 scopes of three levels: the root shows them as ranges in name order, which open onto them, and the
    views laid out are capped, so the page stays small and quick."""
    graph_def = graphs.new()
    for i in range(1000):
        for part in ("dense/w", "dense/b", "norm/gamma"):
            graphs.const(graph_def, f"layer{i}/{part}", np.ones(1 + (i * 7) % 97))
    model = gs.load(graphs.save(graph_def, tmp_path / "wide.pb"))
    text = render_html(audit(model))
    views = json.loads(re.search(r'id="audit-data">(.*?)</script>', text, re.S).group(1))["views"]
    root = views[""]["boxes"]
    assert len(root) == MAX_BOXES and sum(b["bytes"] for b in root) == views[""]["bytes"]
    assert "layer0 … layer24 (25)" in [b["label"] for b in root]  # natural order: layer2 before layer10
    first = views["/[layer0 … layer24]"]
    assert [b["label"] for b in sorted(first["boxes"], key=lambda b: b["path"])][:3] == ["layer0", "layer1", "layer10"]
    assert first["trail"] == [["all scopes", ""], ["layer0 … layer24 (25)", "/[layer0 … layer24]"]]
    assert sum(len(v["boxes"]) for v in views.values()) <= MAX_LAID_OUT + MAX_BOXES + 1
    assert len(text) < 1_000_000
