"""Keras 3 sources (.keras archives, Keras 3 .h5): export equals Keras, metadata without Keras, refusals."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import graphsurgeon as gs
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader

MODELS = {  # fixture -> {input: shape}, [outputs]
    "cnn": ({"image": (16, 16, 3)}, ["probs"]),
    "two_heads": ({"features": (8,), "extra": (4,)}, ["score", "classes"]),
}


def _inputs(shapes: dict, n: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.random((n, *shape), dtype=np.float32) for name, shape in shapes.items()}


def _served(path, feeds: dict, outputs: list[str]) -> list[np.ndarray]:
    [got] = run_in_cpp_loader(path, ["serve"], [Run({f"{k}:0": v for k, v in feeds.items()},
                                                    [f"{o}:0" for o in outputs])])
    return got


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_exports_in_one_command_and_equals_keras_predict(generated, cli, tmp_path, name, suffix):
    source = generated / "keras3" / f"{name}{suffix}"
    shapes, outputs = MODELS[name]
    result = cli("export", source, "-o", tmp_path / "serving")
    assert result.code == 0, result.err
    path = tmp_path / "serving" / "1"
    sig = gs.load(path).signatures["serving_default"]
    assert sorted(sig.inputs) == sorted(shapes) and sorted(sig.outputs) == sorted(outputs)
    feeds = _inputs(shapes)
    expected = keras.saving.load_model(source, compile=False).predict(
        [feeds[k] for k in shapes] if len(shapes) > 1 else feeds[next(iter(shapes))], verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    for got, want in zip(_served(path, feeds, outputs), expected):
        np.testing.assert_allclose(got, want, atol=1e-5)
    if suffix == ".keras":  # verify re-traces the source (seconds); once per model keeps the suite lean
        assert cli("verify", path, "--against", source).code == 0


INSPECT_WITHOUT_KERAS = """
import json, sys
from graphsurgeon.cli.main import main
from graphsurgeon.formats import hdf5
code = main(["inspect", sys.argv[1], "--json"])
reads = [key for op, _, _, key in hdf5.requests() if op != "listing"]  # every HDF5 read goes through hdf5.py
print("MODULES", json.dumps({"tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules,
                             "reads": reads, "code": code}))
"""


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_inspect_imports_neither_tensorflow_nor_keras_reads_no_weights_and_names_what_export_uses(
        generated, cli, suffix, tmp_path):
    source = generated / "keras3" / f"two_heads{suffix}"
    cold = {**os.environ, "GRAPHSURGEON_CACHE_DIR": str(tmp_path / "empty-cache")}  # as on a fresh install
    result = subprocess.run([sys.executable, "-c", INSPECT_WITHOUT_KERAS, str(source)], capture_output=True, text=True,
                            env=cold)
    summary_text, _, modules = result.stdout.rpartition("MODULES ")
    assert json.loads(modules) == {"tensorflow": False, "keras": False, "reads": [], "code": 0}, result.stderr[-2000:]
    summary = json.loads(summary_text)
    assert [i["name"] for i in summary["inputs"]] == ["features", "extra"]
    assert summary["outputs"] == ["score", "classes"]
    traced = gs.load(source)
    assert [r.node for r in traced.inputs] == ["features", "extra"]
    assert [r.node for r in traced.outputs] == ["score", "classes"]
    assert {n.weight for n in traced.graph if n.weight} <= set(gs.load(source, trace=False).weights)
    assert cli("audit", source, "--outputs", "score").code == 0  # a cut by the same names audits too


REFUSAL_WITHOUT_KERAS = """
import sys, graphsurgeon as gs
from graphsurgeon import errors
code = bytes.fromhex(sys.argv[2])
hits = []
sys.addaudithook(lambda event, args: hits.append(event) if event == "marshal.loads" and bytes(args[0]) == code else None)
try:
    gs.load(sys.argv[1])
except errors.LoadError as err:
    print("REFUSED", err)
print("MARSHAL", len(hits), "KERAS", "keras" in sys.modules, "TENSORFLOW", "tensorflow" in sys.modules)
"""


def _lambda_bytecode(path) -> bytes:
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    layer = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Lambda")
    return base64.decodebytes(layer["config"]["function"]["config"]["code"].encode())


def test_lambda_is_refused_by_name_before_keras_deserializes_anything(generated, cli, tmp_path):
    source = generated / "keras3" / "lambda.keras"
    code = _lambda_bytecode(source)
    result = subprocess.run([sys.executable, "-c", REFUSAL_WITHOUT_KERAS, str(source), code.hex()],
                            capture_output=True, text=True)
    assert "REFUSED" in result.stdout and "'double_plus_one'" in result.stdout, result.stderr[-2000:]
    assert "--unsafe-lambda" in result.stdout
    assert "MARSHAL 0 KERAS False TENSORFLOW False" in result.stdout
    refused = cli("export", source, "-o", tmp_path / "refused")
    assert refused.code == 1 and "double_plus_one" in refused.err and not (tmp_path / "refused").exists()


def test_lambda_exports_with_unsafe_lambda(generated, cli, tmp_path):
    source = generated / "keras3" / "lambda.keras"
    assert cli("export", source, "--unsafe-lambda", "-o", tmp_path / "s").code == 0
    feeds = _inputs({"values": (4,)})
    keras.config.enable_unsafe_deserialization()
    expected = keras.saving.load_model(source, compile=False).predict(feeds["values"], verbose=0)
    np.testing.assert_allclose(_served(tmp_path / "s" / "1", feeds, ["scores"])[0], expected, atol=1e-5)


def test_subclassed_model_needs_its_class_from_custom_objects(generated, cli, tmp_path):
    source, module = generated / "keras3" / "subclassed.keras", generated / "keras3" / "subclassed_model.py"
    missing = cli("export", source, "-o", tmp_path / "a")
    assert missing.code == 1 and "'graphsurgeon_tests>Affine'" in missing.err and "--custom-objects" in missing.err
    assert len(missing.err.strip().splitlines()) == 1 and not (tmp_path / "a").exists()
    assert cli("export", source, "--custom-objects", module, "-o", tmp_path / "b").code == 0
    x = _inputs({"input_0": (5,)}, n=4)
    expected = keras.saving.load_model(source, compile=False).predict(x["input_0"], verbose=0)
    np.testing.assert_allclose(_served(tmp_path / "b" / "1", x, ["output_0"])[0], expected, atol=1e-5)


def test_string_lookup_becomes_a_table_over_an_asset_file(generated, cli, tmp_path):
    source = generated / "keras3" / "lookup.keras"
    assert cli("export", source, "-o", tmp_path / "s").code == 0
    path = tmp_path / "s" / "1"
    [vocabulary] = list((path / "assets").iterdir())
    assert vocabulary.read_text().split() == ["the", "sat", "on", "mat", "cat"]
    ops = {n.op for n in gs.load(path, trace=False).graph}
    assert "InitializeTableFromTextFileV2" in ops and "LookupTableImportV2" not in ops
    from graphsurgeon.ir.proto import to_graph_def

    traces = [to_graph_def(m.graph, m.weights).SerializeToString(deterministic=True)
              for m in (gs.load(source), gs.load(source))]
    assert traces[0] == traces[1]  # no per-run table names or layer numbering
    words = np.array([[b"the", b"cat", b"dog"], [b"mat", b"on", b"zebra"]], dtype=object)
    expected = keras.saving.load_model(source, compile=False)(tf.constant(words), training=False).numpy()
    np.testing.assert_allclose(_served(path, {"words": words}, ["score"])[0], expected, atol=1e-5)
    plain = cli("verify", path)  # words are drawn from the table's vocabulary file, plus one it does not hold
    assert plain.code == 0, plain.out
    assert "words from keras_hash_table_1_vocabulary.txt (5 entries), plus one out of the vocabulary" in \
        " ".join(plain.out.split())


def test_cut_names_inner_layers_and_uses_the_same_input_names(generated, cli, tmp_path):
    source = generated / "keras3" / "two_heads.keras"
    assert cli("cut", source, "--outputs", "tower", "-o", tmp_path / "tower.pb").code == 0
    from tests.tfrun import run_pb

    feeds = _inputs(MODELS["two_heads"][0])
    model = keras.saving.load_model(source, compile=False)
    tower = keras.Model(model.inputs[0], model.get_layer("tower").output)
    (got,) = run_pb(tmp_path / "tower.pb", {"features": feeds["features"]}, ["tower:0"])
    np.testing.assert_allclose(got, tower.predict(feeds["features"], verbose=0), atol=1e-5)


def test_a_damaged_archive_is_one_line(cli, tmp_path):
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    result = cli("inspect", bad)
    assert result.code == 1 and "not a zip archive" in result.err and "Traceback" not in result.err


def _rewritten(source, target, drop: str = "", config_change=None):
    """A copy of a .keras archive with one weights dataset dropped or its config changed."""
    import h5py

    with zipfile.ZipFile(source) as z, zipfile.ZipFile(target, "w") as out:
        config = json.loads(z.read("config.json"))
        out.writestr("config.json", json.dumps(config_change(config) if config_change else config))
        out.writestr("metadata.json", z.read("metadata.json"))
        weights = target.with_suffix(".h5")
        weights.write_bytes(z.read("model.weights.h5"))
        if drop:
            with h5py.File(weights, "a") as f:
                del f[drop]
        out.write(weights, "model.weights.h5")
    return target


def test_weights_keras_cannot_load_name_the_layer(generated, cli, tmp_path):
    source = _rewritten(generated / "keras3" / "cnn.keras", tmp_path / "cnn.keras", drop="layers/dense/vars/1")
    result = cli("export", source, "-o", tmp_path / "out")
    assert result.code == 1 and "layer 'probs'" in result.err and "expected 2 variables" in result.err
    assert len(result.err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_a_layer_bound_to_another_backend_is_refused_with_the_reason(generated, cli, tmp_path):
    def torch_layer(config):
        config["config"]["layers"][1]["class_name"] = "TorchModuleWrapper"
        return config

    source = _rewritten(generated / "keras3" / "lambda.keras", tmp_path / "torch.keras", config_change=torch_layer)
    result = cli("export", source, "-o", tmp_path / "out")
    assert result.code == 1 and "'double_plus_one' is a TorchModuleWrapper" in result.err and "PyTorch" in result.err


def test_a_config_keras_cannot_read_names_the_layer_and_the_reason(generated, cli, tmp_path):
    def bogus_argument(config):
        next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")["config"]["bogus"] = 3
        return config

    source = _rewritten(generated / "keras3" / "cnn.keras", tmp_path / "cnn.keras", config_change=bogus_argument)
    result = cli("export", source, "-o", tmp_path / "out")
    assert result.code == 1 and "layer 'probs': Unrecognized keyword arguments passed to Dense" in result.err
