"""Every minimized fuzz reproducer in ../shared/reliability/fuzz-repro ends in one line, exit 1, nothing on disk.

INDEX.tsv names each file and the command that once gave a traceback. The files
are read in place; `.index` cases get the seed checkpoint's .meta and .data
beside them, as the folder's README describes. A case whose input turned out to
be valid (a mutation that only garbled a colocation hint) must succeed instead.
"""
from __future__ import annotations

import csv
import shlex
import shutil
from pathlib import Path

import pytest

REPRO = Path(__file__).resolve().parents[3] / "shared" / "reliability" / "fuzz-repro"
VALID = {"53f46807f0.meta"}  # only a `_class` colocation string is not UTF-8: the cut is correct without it
# HDF5 allocates gigabytes for a variable-length string whose heap entry is corrupt before it fails (~20 s).
SLOW = {"c73c82ef1b.h5", "1bffb8efdd.h5"}


def _cases() -> list[dict[str, str]]:
    if not (REPRO / "INDEX.tsv").is_file():
        return []
    with open(REPRO / "INDEX.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _argv(case: dict[str, str], work: Path) -> list[str]:
    """The INDEX command, with its relative paths pointing at the file in place and at work/OUT."""
    words = shlex.split(case["command (run from this folder)"])[1:]  # drop "graphsurgeon"
    if case["format"] == "index":
        folder = work / "index-case"
        folder.mkdir()
        for seed in ("model.meta", "model.data-00000-of-00001"):
            shutil.copy(REPRO / "index-seed" / seed, folder / seed)
        shutil.copy(REPRO / case["file"], folder / "model.index")
        return [str(folder / "model") if w == "index-case/MODEL" else w.replace("OUT/", f"{work}/OUT/") for w in words]
    return [str(REPRO / w) if w == case["file"] else w.replace("OUT/", f"{work}/OUT/") for w in words]


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c["file"] in SLOW else c
                                  for c in _cases()], ids=lambda c: c["file"])
def test_reproducer_is_one_line_and_leaves_nothing(cli, tmp_path, case):
    (tmp_path / "OUT").mkdir()
    result = cli(*_argv(case, tmp_path))
    assert "Traceback" not in result.err
    if case["file"] in VALID:
        assert result.code == 0, result.err
        assert (tmp_path / "OUT" / "x.pb").is_file()
        return
    assert result.code == 1
    (line,) = result.err.strip().splitlines()
    assert line.startswith("error: ")
    assert sorted(p.name for p in (tmp_path / "OUT").rglob("*")) == []


def test_every_reproducer_is_covered():
    assert len(_cases()) == 37, "INDEX.tsv changed: check the new cases' expectations"
