"""Reading a .keras archive's weights in place: a stored member through a window, a deflated one streamed."""
from __future__ import annotations

import zipfile

import h5py
import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon.formats.hdf5_worker import MemberWindow, open_member
from graphsurgeon.loaders.keras.archive import WEIGHTS


def _recompressed(source, target, compression: int):
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(target, "w", compression) as out:
        for info in z.infolist():
            out.writestr(info.filename, z.read(info.filename))
    return target


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_weights_read_from_the_archive_equal_keras_own_file(generated, tmp_path, compression):
    source = _recompressed(generated / "keras3" / "two_heads.keras", tmp_path / "m.keras", compression)
    with open_member(str(source), WEIGHTS) as member:
        assert isinstance(member, MemberWindow) == (compression == zipfile.ZIP_STORED)  # stored: read in place
    model = gs.load(source, trace=False)
    (tmp_path / "w.h5").write_bytes(zipfile.ZipFile(source).read(WEIGHTS))
    with h5py.File(tmp_path / "w.h5", "r") as f:
        for key, info in model.weights.items():
            np.testing.assert_array_equal(model.weights.read(key), f[info.key][()])
    assert model.weights["layers/sequential/layers/dense/vars/0"].shape == (8, 6)
