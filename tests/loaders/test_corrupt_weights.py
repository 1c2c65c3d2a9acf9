"""Corrupt checkpoints never ship: each tensor is checked (CRC32C, size, dtype) as it is read.

Built from the encoder_decoder fixture: its .data with the second half zeroed
(same size), the same file truncated, and float64 values saved for its float32
variables. export, cut, freeze and verify --against each end in one line (so does a damaged .index),
exit 1, no traceback, nothing on disk, and quickly (the truncated file used to
hang export forever).
"""
from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

from graphsurgeon.exporters.bundle_writer import BundleWriter
from graphsurgeon.ir.weights import array_chunks
from graphsurgeon.loaders.bundle import Bundle

PREFIX = "model.ckpt-3"
DATA = PREFIX + ".data-00000-of-00001"


def _copy(generated, folder):
    folder.mkdir()
    for suffix in (".meta", ".index", ".data-00000-of-00001"):
        shutil.copy(generated / "encoder_decoder" / (PREFIX + suffix), folder / (PREFIX + suffix))
    return folder


def zeroed(generated, folder):
    data = _copy(generated, folder) / DATA
    raw = data.read_bytes()
    data.write_bytes(raw[: len(raw) // 2] + bytes(len(raw) - len(raw) // 2))


def truncated(generated, folder):
    data = _copy(generated, folder) / DATA
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])


def float64_values(generated, folder):
    """The same tensors, but every float32 one saved as float64 (as a careless converter would)."""
    folder.mkdir()
    shutil.copy(generated / "encoder_decoder" / (PREFIX + ".meta"), folder / (PREFIX + ".meta"))
    source = Bundle(str(generated / "encoder_decoder" / PREFIX))
    writer = BundleWriter(str(folder / PREFIX))
    for key in sorted(source.entries):
        value = source.read(key)
        value = value.astype(np.float64) if value.dtype == np.float32 else value
        dtype = 2 if value.dtype == np.float64 else source.entries[key].dtype
        writer.add(key, dtype, value.shape, array_chunks(value))
    writer.finish()


def damaged_index(generated, folder):
    """One byte of the .index flipped: its block checksum catches it before any entry is trusted."""
    index = _copy(generated, folder) / (PREFIX + ".index")
    raw = bytearray(index.read_bytes())
    raw[40] ^= 0x5A
    index.write_bytes(bytes(raw))


BREAKAGES = {"zeroed": zeroed, "truncated": truncated, "float64": float64_values, "index": damaged_index}
EXPECTED = {"zeroed": "fail their CRC32C check", "truncated": "lie past the end of",
            "float64": "is stored as float64", "index": "fails its CRC32C check (the index is corrupt)"}


@pytest.fixture(scope="module")
def broken(generated, tmp_path_factory):
    root = tmp_path_factory.mktemp("broken")
    for name, make in BREAKAGES.items():
        make(generated, root / name)
    return root


@pytest.fixture(scope="module")
def good_export(generated, tmp_path_factory):
    from graphsurgeon import load
    from graphsurgeon.exporters.saved_model import export_saved_model
    from tests.tiny import extract

    model = extract(load(generated / "encoder_decoder"), ["images_ph"], ["decoder/out"])
    return export_saved_model(model, tmp_path_factory.mktemp("good") / "serving", load_check=False)


COMMANDS = {
    "export": lambda ckpt, out: ("export", ckpt, "--inputs", "images_ph", "--outputs", "decoder/out", "-o", out),
    "cut": lambda ckpt, out: ("cut", ckpt, "--inputs", "images_ph", "--outputs", "decoder/out", "-o", out),
    "freeze": lambda ckpt, out: ("freeze", ckpt, "--outputs", "decoder/out", "-o", out),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_corrupt_weights_give_one_line_and_leave_nothing(cli, broken, tmp_path, breakage, command):
    out = tmp_path / "out" / ("model.pb" if command != "export" else "serving")
    out.parent.mkdir()
    started = time.perf_counter()
    result = cli(*COMMANDS[command](broken / breakage / PREFIX, out))
    elapsed = time.perf_counter() - started
    print(f"{command} on {breakage}: {elapsed:.2f} s")
    assert result.code == 1
    (line,) = result.err.strip().splitlines()
    assert line.startswith("error: ") and EXPECTED[breakage] in line and "Traceback" not in result.err
    if breakage in ("zeroed", "truncated"):
        assert DATA in line and "offset" in line  # names the file and where in it
    assert list((tmp_path / "out").iterdir()) == []
    assert elapsed < 10  # the truncated file used to hang; measured well under 2 s in-process


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_verify_against_a_corrupt_checkpoint_is_one_line(cli, broken, good_export, breakage):
    result = cli("verify", good_export, "--against", broken / breakage / PREFIX)
    assert result.code == 1, result.out
    (line,) = result.err.strip().splitlines()
    assert line.startswith("error: ") and "Traceback" not in result.err


def test_lossless_widening_is_cast_with_a_notice(generated, tmp_path, caplog):
    """float16 values for float32 variables widen exactly: the export casts them and says so."""
    from graphsurgeon import load
    from graphsurgeon.exporters.saved_model import export_saved_model
    from tests.tiny import extract

    folder = tmp_path / "half"
    folder.mkdir()
    shutil.copy(generated / "encoder_decoder" / (PREFIX + ".meta"), folder / (PREFIX + ".meta"))
    source = Bundle(str(generated / "encoder_decoder" / PREFIX))
    writer = BundleWriter(str(folder / PREFIX))
    for key in sorted(source.entries):
        value = source.read(key)
        value = value.astype(np.float16) if value.dtype == np.float32 else value
        writer.add(key, 19 if value.dtype == np.float16 else source.entries[key].dtype, value.shape,
                   array_chunks(value))
    writer.finish()
    model = extract(load(folder / PREFIX), ["images_ph"], ["encoder/out"])
    path = export_saved_model(model, tmp_path / "serving")
    assert "is stored as float16" in caplog.text and "cast (losslessly)" in caplog.text
    restored = Bundle(str(path / "variables" / "variables"))
    assert {restored.entries[k].dtype for k in restored.entries} == {1}
    expected = source.read("encoder/fc/w").astype(np.float16).astype(np.float32)
    np.testing.assert_array_equal(restored.read("encoder/fc/w"), expected)
