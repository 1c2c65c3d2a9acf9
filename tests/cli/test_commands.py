"""inspect, freeze and cut as a user runs them, text and --json."""
from __future__ import annotations

import json

import graphsurgeon as gs
from graphsurgeon.exporters.saved_model import export_saved_model
from tests.tiny import extract


def test_inspect_lists_inputs_outputs_and_variables(cli, generated):
    result = cli("inspect", generated / "encoder_decoder")
    assert result.code == 0
    out = result.out
    assert "(checkpoint)" in out and "image_bytes" in out and "images_ph" in out
    assert "encoder/fc/w" in out and "1.00 MiB" in out


def test_inspect_json(cli, generated):
    data = json.loads(cli("inspect", generated / "encoder_decoder", "--json").out)
    assert data["format"] == "checkpoint"
    assert {"name": "images_ph", "op": "PlaceholderWithDefault", "dtype": "float32", "shape": [-1, 32, 32, 3]} in data["inputs"]
    fc = next(v for v in data["variables"] if v["name"] == "encoder/fc/w")
    assert fc == {"name": "encoder/fc/w", "dtype": "float32", "shape": [2048, 128], "nbytes": 2048 * 128 * 4}


def test_cut_json_report(cli, generated, tmp_path):
    out = tmp_path / "enc.pb"
    data = json.loads(cli("cut", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out",
                          "-o", out, "--json").out)
    assert data["output"] == str(out) and data["bytes_written"] == out.stat().st_size
    groups = {g["group"]: g for g in data["removed"]}
    assert {"decoder/", "optimizer state", "gradients", "saver", "preprocess/"} <= set(groups)
    encoder_variables = sum(w.nbytes for k, w in gs.load(generated / "encoder_decoder").weights.items()
                            if k.startswith("encoder/") and "Adam" not in k)
    assert 0 <= data["kept_bytes"] - encoder_variables <= 64  # plus inline shape constants


def test_freeze_to_pbtxt(cli, corpus, tmp_path):
    out = tmp_path / "cond.pbtxt"
    assert cli("freeze", corpus / "tfnet_meta_cond_test" / "cond_test.meta", "--outputs", "cond/Merge", "-o", out).code == 0
    assert out.read_text().startswith("node {")
    assert len(gs.load(out).graph) == 13


def test_comma_separated_names_and_input_specs(cli, corpus, tmp_path):
    result = cli("cut", corpus / "rust_addition_graphdef" / "model.pb", "--inputs", "x=int32[],y=int32[]",
                 "--outputs", "z", "-o", tmp_path / "add.pb")
    assert result.code == 0, result.err
    assert "input  x: int32[]" in result.out and "input  y: int32[]" in result.out


def test_cut_with_saved_model_format_publishes_a_version(cli, generated, tmp_path):
    result = cli("cut", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out",
                 "-o", tmp_path / "serving", "--format", "saved_model", "--keys", "encoder/out=code", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["path"] == str(tmp_path / "serving" / "1")
    assert report["signatures"]["serving_default"]["outputs"] == {"code": "encoder/out:0"}


def test_library_reports_weight_progress(generated, tmp_path):
    calls = []
    model = extract(gs.load(generated / "encoder_decoder"), ["images_ph"], ["encoder/out"])
    export_saved_model(model, tmp_path / "s", progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] > 1_000_000
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
