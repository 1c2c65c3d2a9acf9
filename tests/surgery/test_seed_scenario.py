"""The seed scenario: cut the encoder out of an encoder-decoder training checkpoint.

    image_bytes -> preprocess/* -> images_ph -> encoder/* -> encoder/out -> decoder/* -> loss <- Adam, saver, summary
                                   ^ cut input              ^ cut output
"""
from __future__ import annotations

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon.exporters.graphdef import write_graph_def
from tests.tfrun import run_checkpoint, run_pb
from tests.tiny import extract

FRONT_END = ("image_bytes", "preprocess/")
TRAINING = ("decoder/", "train", "gradients", "save/", "loss", "Adam", "beta1_power", "beta2_power", "global_step")


@pytest.fixture(scope="module")
def encoder_pb(generated, tmp_path_factory):
    out = tmp_path_factory.mktemp("seed") / "enc.pb"
    model = gs.load(generated / "encoder_decoder")
    write_graph_def(extract(model, ["images_ph"], ["encoder/out"]), out)
    return out


def test_output_holds_no_decoder_optimizer_saver_or_front_end(encoder_pb):
    names = [n.name for n in gs.load(encoder_pb).graph]
    assert "encoder/out" in names
    offending = [n for n in names if n.startswith(FRONT_END + TRAINING) or "/Adam" in n]
    assert offending == []


def test_images_ph_becomes_float32_placeholder_of_original_shape(encoder_pb):
    node = gs.load(encoder_pb).graph["images_ph"]
    assert node.op == "Placeholder"
    assert node.attrs["dtype"].type == 1  # DT_FLOAT
    assert [d.size for d in node.attrs["shape"].shape.dim] == [-1, 32, 32, 3]


def test_output_equals_original_session(encoder_pb, generated):
    x = np.random.default_rng(7).random((3, 32, 32, 3), dtype=np.float32)
    ckpt = generated / "encoder_decoder" / "model.ckpt-3"
    (expected,) = run_checkpoint(f"{ckpt}.meta", str(ckpt), {"images_ph": x}, ["encoder/out:0"])
    (actual,) = run_pb(encoder_pb, {"images_ph": x}, ["encoder/out:0"])
    np.testing.assert_allclose(actual, expected, atol=1e-6, rtol=0)


def test_file_size_is_weights_plus_small_overhead(encoder_pb, generated):
    model = gs.load(generated / "encoder_decoder")
    encoder_weights = sum(model.weights[k].nbytes for k in model.weights
                          if k.startswith("encoder/") and "Adam" not in k)
    assert encoder_pb.stat().st_size <= 1.05 * encoder_weights + 64 * 1024


def test_cut_reads_only_kept_variables(generated, monkeypatch):
    read = []
    model = gs.load(generated / "encoder_decoder")
    original = type(model.weights).read
    monkeypatch.setattr(type(model.weights), "read", lambda self, key: read.append(key) or original(self, key))
    result = extract(model, ["images_ph"], ["encoder/out"])
    assert read == []  # extracting reads nothing; bytes move only when written
    gs.ir.proto.to_graph_def(result.graph, result.weights)
    assert sorted(read) == sorted(k for k in model.weights if k.startswith("encoder/") and "Adam" not in k)


def test_cli_prints_kept_and_removed(cli, generated, tmp_path):
    result = cli("cut", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out",
                 "-o", tmp_path / "enc.pb")
    assert result.code == 0, result.err
    assert "input  images_ph: float32[?,32,32,3]" in result.out
    assert "optimizer state" in result.out and "decoder/" in result.out
    assert "kept    " in result.out and "removed " in result.out


def test_writing_twice_gives_identical_bytes(generated, tmp_path):
    for name in ("a.pb", "b.pb"):
        model = gs.load(generated / "encoder_decoder")
        write_graph_def(extract(model, ["images_ph"], ["encoder/out"]), tmp_path / name)
    assert (tmp_path / "a.pb").read_bytes() == (tmp_path / "b.pb").read_bytes()
