"""Bad input: one clear line, exit 1, no traceback, and no output file left behind."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest


def _cut(cli, model, out, *extra):
    return cli("cut", model, "--inputs", "images_ph", "--outputs", "encoder/out", "-o", out, *extra)


def test_unknown_name_lists_close_nodes_and_tensors(cli, generated, tmp_path):
    out = tmp_path / "enc.pb"
    result = cli("cut", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/outt", "-o", out)
    assert result.code == 1
    (line,) = result.err.strip().splitlines()
    assert line.startswith("error: output 'encoder/outt' is not in the graph; did you mean: encoder/out (node), ")
    result = cli("cut", generated / "encoder_decoder", "--inputs", "images_ph:0", "--outputs", "encoder/ou:0", "-o", out)
    assert "encoder/out:0 (tensor)" in result.err
    assert not out.exists()


def test_port_out_of_range_names_the_ports(cli, generated, tmp_path):
    result = cli("cut", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out:1",
                 "-o", tmp_path / "x.pb")
    assert result.code == 1 and "has 1 output(s); did you mean: encoder/out:0 (tensor)" in result.err


@pytest.mark.parametrize("breakage", ["truncated", "no_data", "missing"])
def test_broken_inputs_give_one_line(cli, generated, tmp_path, breakage):
    model_dir = tmp_path / "m"
    shutil.copytree(generated / "encoder_decoder", model_dir)
    target = model_dir / "model.ckpt-3"
    if breakage == "truncated":
        meta = model_dir / "model.ckpt-3.meta"
        meta.write_bytes(meta.read_bytes()[:5000])
    elif breakage == "no_data":
        (model_dir / "model.ckpt-3.data-00000-of-00001").unlink()
    else:
        target = model_dir / "model.ckpt-99"
    out = tmp_path / "enc.pb"
    result = _cut(cli, target, out)
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.err
    assert not out.exists() and not list(tmp_path.glob(".enc.pb*"))


def test_existing_output_needs_force(cli, generated, tmp_path):
    out = tmp_path / "enc.pb"
    out.write_bytes(b"keep me")
    result = _cut(cli, generated / "encoder_decoder", out)
    assert result.code == 1 and "--force" in result.err and out.read_bytes() == b"keep me"
    assert _cut(cli, generated / "encoder_decoder", out, "--force").code == 0
    assert out.read_bytes() != b"keep me"


def test_unwritable_directory(cli, generated, tmp_path):
    result = _cut(cli, generated / "encoder_decoder", tmp_path / "no" / "such" / "dir" / "enc.pb")
    assert result.code == 1 and "does not exist" in result.err


def test_verbose_shows_traceback_and_exit_code_is_1_from_a_real_process(generated, tmp_path):
    args = [sys.executable, "-m", "graphsurgeon", "cut", str(generated / "encoder_decoder"), "--inputs", "nope",
            "--outputs", "encoder/out", "-o", str(tmp_path / "x.pb")]
    quiet = subprocess.run(args, capture_output=True, text=True)
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr
    assert quiet.stderr.startswith("error: input 'nope' is not in the graph")
    loud = subprocess.run(args[:3] + ["-v"] + args[3:], capture_output=True, text=True)
    assert loud.returncode == 1 and "Traceback" in loud.stderr


@pytest.mark.parametrize("option", ["--warmup", "--feeds"])
def test_a_file_that_is_not_npz_is_one_clear_line(cli, generated, tmp_path, option):
    bad = tmp_path / "samples.npz"
    bad.write_text("not numpy")
    if option == "--warmup":
        result = cli("export", generated / "encoder_decoder", "--outputs", "encoder/out", "--warmup", bad,
                     "-o", tmp_path / "out")
    else:
        exported = tmp_path / "out"
        assert cli("export", generated / "encoder_decoder", "--outputs", "encoder/out", "-o", exported).code == 0
        result = cli("verify", exported / "1", "--feeds", bad)
    (line,) = result.err.strip().splitlines()
    assert result.code == 1 and line.startswith(f"error: cannot read {option} ") and "numpy.savez" in line
    assert not (tmp_path / "out").exists() or option == "--feeds"
