"""Exporting SavedModels: weights in variables/, signatures, assets once each, deterministic bytes."""
from __future__ import annotations

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.exporters.saved_model.signatures import SignatureSpec
from graphsurgeon.verify import verify
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from tests.tfrun import run_checkpoint
from tests.tiny import extract


@pytest.fixture(scope="module")
def encoder(generated):
    return extract(gs.load(generated / "encoder_decoder"), ["images_ph"], ["encoder/out"])


def test_encoder_export_matches_original_session_in_cpp_loader(encoder, generated, tmp_path):
    path = export_saved_model(encoder, tmp_path / "enc")
    assert path == tmp_path / "enc" / "1"
    x = np.random.default_rng(5).random((3, 32, 32, 3), dtype=np.float32)
    [[actual]] = run_in_cpp_loader(path, ["serve"], [Run({"images_ph:0": x}, ["encoder/out:0"])])
    ckpt = generated / "encoder_decoder" / "model.ckpt-3"
    (expected,) = run_checkpoint(f"{ckpt}.meta", str(ckpt), {"images_ph": x}, ["encoder/out:0"])
    np.testing.assert_allclose(actual, expected, atol=1e-6, rtol=0)


def test_saved_model_pb_holds_no_large_constant(encoder, tmp_path):
    path = export_saved_model(encoder, tmp_path / "enc")
    exported = gs.load(path)
    biggest = max(gs.ir.types.const_nbytes(n, exported.weights) for n in exported.graph if n.op == "Const")
    assert biggest < 1024
    assert (path / "saved_model.pb").stat().st_size < 16 * 1024
    assert (path / "variables" / "variables.index").is_file()


def test_inline_limit_is_configurable(encoder, tmp_path):
    path = export_saved_model(encoder, tmp_path / "enc", inline_limit=2**40)
    assert not (path / "variables").exists()
    assert (path / "saved_model.pb").stat().st_size > 1_000_000


def test_same_input_same_bytes(encoder, tmp_path):
    first = export_saved_model(encoder, tmp_path / "enc")
    second = export_saved_model(encoder, tmp_path / "enc")
    assert second.name == "2"
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_several_signatures_with_methods_and_chosen_keys(corpus, tmp_path):
    model = extract(gs.load(corpus / "tf2onnx_regression_frozen" / "frozen.pb"), ["X"], ["pred", "Mul"])
    x, pred, mul = gs.TensorRef("X"), gs.TensorRef("pred"), gs.TensorRef("Mul")
    specs = [SignatureSpec("serving_default", {"x": x}, {"y": pred}, "predict"),
             SignatureSpec("scaled", {"inputs": x}, {"outputs": mul}, "regress")]
    path = export_saved_model(model, tmp_path / "reg", signatures=specs)
    exported = gs.load(path)
    assert exported.signatures["scaled"].method_name == "tensorflow/serving/regress"
    report = verify(path, feeds={"x": np.float32([5.0]), "inputs": np.float32([5.0])})
    assert report.ok, report
    assert {c.key for c in report.signatures if c.ran} == {"serving_default", "scaled"}


def test_default_signature_keys_derive_from_names(encoder, tmp_path):
    path = export_saved_model(encoder, tmp_path / "enc")
    sig = gs.load(path).signatures["serving_default"]
    assert sorted(sig.inputs) == ["images_ph"] and sorted(sig.outputs) == ["out"]
    assert sig.inputs["images_ph"].tensor_shape.dim[1].size == 32


def test_missing_asset_names_tensor_and_path_and_leaves_nothing(generated, tmp_path):
    model = extract(gs.load(generated / "latent_search"), ["query"], ["filename"])
    with pytest.raises(gs.GraphSurgeonError, match=r"asset 'latents.bin' read through tensor latents_path:0 "
                                                   r"is missing: expected /home/alice/latent-search/latents.bin"):
        export_saved_model(model, tmp_path / "serve")
    assert not (tmp_path / "serve").exists() or not any((tmp_path / "serve").iterdir())


def test_assets_extra_carried_over_unchanged(corpus, tmp_path, cli):
    source = corpus / "serving_half_plus_two_with_config" / "00000123"
    assert cli("export", source, "-o", tmp_path / "hp2").code == 0
    original = (source / "assets.extra" / "saved_model_config.pb").read_bytes()
    assert (tmp_path / "hp2" / "1" / "assets.extra" / "saved_model_config.pb").read_bytes() == original


def test_an_asset_listed_twice_is_recorded_once(corpus, tmp_path):
    """Listing the same asset twice makes the C++ loader fail: 'Endpoint "Const_1:0" fed more than once'."""
    model = extract(gs.load(corpus / "serving_half_plus_two_cpu" / "00000123"), ["x"], ["y"])
    source = gs.load(corpus / "serving_half_plus_two_cpu" / "00000123")
    (asset,) = source.assets
    graph = model.graph.with_nodes([*model.graph, source.graph[asset.tensor.node]])
    doubled = model.replace(graph=graph, assets=(asset, asset))
    path = export_saved_model(doubled, tmp_path / "hp2")
    defs = gs.load(path)
    assert [a.filename for a in defs.assets] == ["foo.txt"]
    report = gs.verify(path)
    assert report.ok and next(f for f in report.findings if f.check == "assets").message == "1 asset(s), all present"
