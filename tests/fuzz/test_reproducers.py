"""Every minimized fuzz reproducer in ../shared/reliability/fuzz-repro ends in one line, exit 1, nothing on disk.

INDEX.tsv names each file and the command that once gave a traceback (or hung).
The files are read in place; `.index` cases get the seed checkpoint's .meta and
.data beside them, `ckmeta` cases its .index and .data, as the folder's README
describes. A case whose input turned out to be valid (a mutation that only
garbled a colocation hint) must succeed instead. Each case runs under an alarm,
so a hang fails its test instead of stopping the suite; the HDF5 reader's own
time bound is lowered so that the .h5 that makes HDF5 loop is refused in seconds.
"""
from __future__ import annotations

import csv
import shlex
import shutil
import signal
from pathlib import Path

import pytest

from graphsurgeon.formats import hdf5

REPRO = Path(__file__).resolve().parents[3] / "shared" / "reliability" / "fuzz-repro"
VALID = {"53f46807f0.meta"}  # only a `_class` colocation string is not UTF-8: the cut is correct without it
# HDF5 allocates gigabytes for a variable-length string whose heap entry is corrupt before it fails.
SLOW = {"c73c82ef1b.h5", "1bffb8efdd.h5"}
CASE_SECONDS = 60  # a case that has not ended by then hangs
READ_SECONDS = 3.0  # the HDF5 reader's bound in these tests: every honest read of these tiny files takes milliseconds
# The file each format's seed folder gets the mutated file as; the other two seed files are copied beside it.
SEED_NAMES = {"index": "model.index", "ckmeta": "model.meta"}
SEED_FILES = ("model.index", "model.meta", "model.data-00000-of-00001")


def _cases() -> list[dict[str, str]]:
    if not (REPRO / "INDEX.tsv").is_file():
        return []
    with open(REPRO / "INDEX.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _argv(case: dict[str, str], work: Path) -> list[str]:
    """The INDEX command, with its relative paths pointing at the file in place (or its seed folder) and work/OUT."""
    words = shlex.split(case["command (run from this folder)"])[1:]  # drop "graphsurgeon"
    mutated_as = SEED_NAMES.get(case["format"])
    if mutated_as is not None:
        folder = work / "index-case"
        folder.mkdir()
        for seed in SEED_FILES:
            if seed != mutated_as:
                shutil.copy(REPRO / "index-seed" / seed, folder / seed)
        shutil.copy(REPRO / case["file"], folder / mutated_as)
        words = [str(folder / "model") if w == "index-case/model" else w for w in words]
        assert str(folder / "model") in words, f"{case['file']}: the command does not name index-case/model"
    return [str(REPRO / w) if w == case["file"] else w.replace("OUT/", f"{work}/OUT/") for w in words]


class CaseHung(Exception):
    pass


def _hung(signum, frame):
    raise CaseHung(f"the command did not end in {CASE_SECONDS} s")


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c["file"] in SLOW else c
                                  for c in _cases()], ids=lambda c: c["file"])
def test_reproducer_is_one_line_and_leaves_nothing(cli, tmp_path, monkeypatch, case):
    monkeypatch.setattr(hdf5, "READ_SECONDS", READ_SECONDS)
    (tmp_path / "OUT").mkdir()
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(CASE_SECONDS)
    try:
        result = cli(*_argv(case, tmp_path))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert "Traceback" not in result.err
    if case["file"] in VALID:
        assert result.code == 0, result.err
        assert (tmp_path / "OUT" / "x.pb").is_file()
        return
    assert result.code == 1, result.out
    (line,) = result.err.strip().splitlines()
    assert line.startswith("error: ")
    assert sorted(p.name for p in (tmp_path / "OUT").rglob("*")) == []


def test_every_reproducer_is_covered():
    cases = _cases()
    assert len(cases) == 40, "INDEX.tsv changed: check the new cases' expectations"
    assert {c["format"] for c in cases} <= {"pb", "meta", "h5", *SEED_NAMES}


def test_the_hdf5_loop_is_stopped_by_the_readers_own_bound(cli, monkeypatch):
    """60a9724a4f.h5 makes HDF5 loop forever reading an attribute, holding the GIL: the bound, not the alarm, ends it."""
    monkeypatch.setattr(hdf5, "READ_SECONDS", READ_SECONDS)
    result = cli("inspect", REPRO / "60a9724a4f.h5")
    assert result.code == 1
    assert f"did not finish reading its groups and attributes in {READ_SECONDS:g} s" in result.err
