"""The bounded HDF5 reader: every read in a child process, a loop or a crash in HDF5 is one LoadError, and
graphsurgeon itself never calls h5py.

The loop is real: fuzz-repro/60a9724a4f.h5, on which reading an attribute never returns (inside the HDF5
library, holding the GIL, so no signal could stop it in this process).
"""
from __future__ import annotations

import ast
import os
import pickle
import signal
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import graphsurgeon
from graphsurgeon.errors import LoadError
from graphsurgeon.formats import hdf5

LOOPS = Path(__file__).resolve().parents[3] / "shared" / "reliability" / "fuzz-repro" / "60a9724a4f.h5"


@pytest.fixture
def small(tmp_path) -> Path:
    path = tmp_path / "small.h5"
    with h5py.File(path, "w") as f:
        f.attrs["names"] = np.array([b"a", b"bb"], dtype="S2")  # as Keras 2 writes layer_names
        f.create_group("g").attrs["empty"] = np.array([], dtype=np.float64)
        f["g/w"] = np.arange(6, dtype=np.float32).reshape(2, 3)
    return path


def test_a_listing_holds_attributes_and_dataset_headers_and_reads_no_values(small):
    before = len(hdf5.requests())
    listing = hdf5.HDF5File(small).listing()
    assert listing.attr("", "names") == [b"a", b"bb"]
    assert listing.attr("g", "empty").shape == (0,)
    assert listing.dataset("g/w") == hdf5.Dataset(np.dtype("<f4"), (2, 3))
    assert [r[0] for r in hdf5.requests()[before:]] == ["listing"]
    np.testing.assert_array_equal(hdf5.HDF5File(small).read("g/w"), np.arange(6, dtype=np.float32).reshape(2, 3))


def test_an_object_whose_name_is_not_utf8_is_broken_only_where_used(small):
    """h5py hands such a name over as bytes, which no path reaches (the fuzzer found it in optimizer_weights)."""
    with h5py.File(small, "a") as f:
        f.create_dataset(b"g/\xffw", data=np.zeros(2))
    listing = hdf5.HDF5File(small).listing()
    assert listing.broken == {"g/\\xffw": "its name is not UTF-8"}
    assert listing.dataset("g/w") is not None
    with pytest.raises(LoadError, match=r"damaged HDF5 file \(/g/\\xffw: its name is not UTF-8\)"):
        listing.dataset("g/\\xffw")


def test_a_file_that_makes_hdf5_loop_is_stopped_and_the_next_read_works(small, monkeypatch):
    monkeypatch.setattr(hdf5, "READ_SECONDS", 2.0)
    started = time.monotonic()
    with pytest.raises(hdf5.HDF5TimeoutError, match="did not finish reading its groups and attributes in 2 s"):
        hdf5.HDF5File(LOOPS).listing()
    assert time.monotonic() - started < 15
    assert hdf5.HDF5File(small).listing().attr("", "names") == [b"a", b"bb"]  # a new child took over


def test_a_reader_that_dies_is_one_load_error(small, monkeypatch):
    """SIGKILL the child while HDF5 loops: what a crash in the library looks like from here."""
    monkeypatch.setattr(hdf5, "READ_SECONDS", 30.0)
    hdf5.HDF5File(small).listing()  # the child is up
    pid = hdf5._WORKER._child.pid
    threading.Timer(1.0, os.kill, (pid, signal.SIGKILL)).start()
    with pytest.raises(LoadError, match=r"the HDF5 library crashed reading its groups and attributes \(signal 9\)"):
        hdf5.HDF5File(LOOPS).listing()


def test_not_an_hdf5_file(tmp_path):
    path = tmp_path / "m.h5"
    path.write_bytes(b"not hdf5")
    with pytest.raises(LoadError, match="m.h5 is not a readable HDF5 file"):
        hdf5.HDF5File(path).listing()


def test_the_answer_is_unpickled_as_plain_data_only():
    assert hdf5._unpickle(pickle.dumps(("ok", [np.zeros(2), b"x", {"a": 1}]), protocol=5))[1][2] == {"a": 1}
    with pytest.raises(pickle.UnpicklingError, match="system, which is not plain data"):
        hdf5._unpickle(pickle.dumps(os.system))


def test_only_the_worker_imports_h5py():
    """Every HDF5 read graphsurgeon makes goes through formats/hdf5.py (tf_keras reads a Keras 2 file itself,
    after the bounded reader has read all of it)."""
    package = Path(graphsurgeon.__file__).parent
    importers = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "h5py" or n.startswith("h5py.") for n in names):
                importers.append(str(path.relative_to(package)))
    assert sorted(set(importers)) == ["formats/hdf5_worker.py"]
