"""Keras .h5 sources traced with tf_keras: export, verify against Keras predict, refusals."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import tf_keras

import graphsurgeon as gs
from graphsurgeon.exporters.graphdef import write_graph_def
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from tests.tiny import extract

FACES = ["faceclf_gender_mini_xception/gender_mini_XCEPTION.21-0.95.hdf5",
         "faceclf_tiny_xception_kdef/tiny_XCEPTION_KDEF.hdf5"]


def _images(shape, n=3, seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def test_seed_003_planet_exports_two_heads_equal_to_keras(generated, tmp_path, cli):
    source = generated / "keras" / "planet.h5"
    assert cli("export", source, "-o", tmp_path / "serving" / "planet").code == 0
    path = tmp_path / "serving" / "planet" / "1"
    sig = gs.load(path).signatures["serving_default"]
    assert sorted(sig.outputs) == ["ground", "weather"] and list(sig.inputs) == ["input_image"]
    assert [d.size for d in sig.outputs["weather"].tensor_shape.dim] == [-1, 4]
    assert [d.size for d in sig.outputs["ground"].tensor_shape.dim] == [-1, 13]
    x = _images((128, 128, 3))
    weather, ground = tf_keras.models.load_model(source, compile=False).predict(x, verbose=0)
    [[got_weather, got_ground]] = run_in_cpp_loader(path, ["serve"], [Run(
        {sig.inputs["input_image"].name: x}, [sig.outputs["weather"].name, sig.outputs["ground"].name])])
    np.testing.assert_allclose(got_weather, weather, atol=1e-5)
    np.testing.assert_allclose(got_ground, ground, atol=1e-5)
    assert cli("verify", path, "--against", source).code == 0


@pytest.mark.parametrize("name", FACES)
def test_face_models_export_and_match_keras_predict(corpus, tmp_path, name):
    model = gs.load(corpus / name)
    weights = [n for n in model.graph if n.op == "Const" and gs.ir.types.const_nbytes(n, model.weights) > 64]
    assert weights and all(n.weight is not None for n in weights)  # read lazily from the .h5 datasets
    path = export_saved_model(extract(model, [], [str(r) for r in model.outputs]), tmp_path / "face")
    keras_model = tf_keras.models.load_model(corpus / name, compile=False)
    x = _images(keras_model.input_shape[1:])
    [[got]] = run_in_cpp_loader(path, ["serve"], [Run({"input_1:0": x}, ["predictions:0"])])
    np.testing.assert_allclose(got, keras_model.predict(x, verbose=0), atol=1e-5)


def test_cut_from_input_to_an_inner_add_layer(corpus, tmp_path):
    source = corpus / FACES[0]
    model = gs.load(source)
    add = next(n.name for n in model.graph if n.op == "AddV2" and "/add_2/" in n.name)
    cut = extract(model, ["input_1"], [add])
    write_graph_def(cut, tmp_path / "inner.pb")
    from tests.tfrun import run_pb

    keras_model = tf_keras.models.load_model(source, compile=False)
    inner = tf_keras.Model(keras_model.input, keras_model.get_layer("add_2").output)
    x = _images(keras_model.input_shape[1:], seed=1)
    (got,) = run_pb(tmp_path / "inner.pb", {"input_1": x}, [add + ":0"])
    np.testing.assert_allclose(got, inner.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("name", ["countnet_f_crnn/F-CRNN.h5", "countnet_rnn/RNN.h5"])
def test_keras_1_files_are_a_clear_error(cli, corpus, tmp_path, name):
    result = cli("export", corpus / name, "-o", tmp_path / "out")
    assert result.code == 1 and "was saved by Keras 1." in result.err and "Traceback" not in result.err
    assert not (tmp_path / "out").exists()


def test_lambda_bytecode_is_never_deserialized(corpus):
    """An audit hook watches marshal.loads for the Lambda's own stored bytecode: it must never be
    unmarshalled (module imports unmarshal .pyc files, which is fine), and tf_keras is never imported."""
    path = str(corpus / "carnd_behavioral_cloning_lambda" / "model.h5")
    script = (
        "import json, sys, h5py\n"
        f"config = json.loads(h5py.File({path!r}, 'r').attrs['model_config'])\n"
        "layer = next(l for l in config['config'] if l['class_name'] == 'Lambda')\n"
        "code = layer['config']['function'][0].encode('raw_unicode_escape')\n"
        "hits = []\n"
        "sys.addaudithook(lambda e, a: hits.append(e) if e == 'marshal.loads' and bytes(a[0]) == code else None)\n"
        "import graphsurgeon as gs\n"
        "from graphsurgeon import errors\n"
        "try:\n"
        f"    gs.load({path!r})\n"
        "except errors.LoadError as err:\n"
        "    print('REFUSED', err)\n"
        "print('MARSHAL', len(hits), 'TF_KERAS', 'tf_keras' in sys.modules, 'CODE', len(code))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "REFUSED" in result.stdout and "'lambda_1'" in result.stdout, result.stderr[-2000:]
    assert "MARSHAL 0 TF_KERAS False" in result.stdout and "CODE 0" not in result.stdout


def test_unknown_custom_layer_names_the_class_and_custom_objects_fix_it(generated, cli, tmp_path):
    source = generated / "keras" / "custom_layer.h5"
    result = cli("export", source, "-o", tmp_path / "a")
    assert result.code == 1 and "Scale" in result.err and "--custom-objects" in result.err
    ok = cli("export", source, "--custom-objects", generated / "keras" / "custom_layer.py", "-o", tmp_path / "b")
    assert ok.code == 0, ok.err


def test_weights_only_file_with_json_architecture(generated, tmp_path, cli):
    keras_dir = generated / "keras"
    missing = cli("export", keras_dir / "planet_weights.h5", "-o", tmp_path / "a")
    assert missing.code == 1 and "--architecture" in missing.err
    assert cli("export", keras_dir / "planet_weights.h5", "--architecture", keras_dir / "planet.json",
               "-o", tmp_path / "b").code == 0
    x = _images((128, 128, 3), n=2, seed=4)
    full = tf_keras.models.load_model(keras_dir / "planet.h5", compile=False).predict(x, verbose=0)
    [[weather, ground]] = run_in_cpp_loader(tmp_path / "b" / "1", ["serve"],
                                            [Run({"input_image:0": x}, ["weather:0", "ground:0"])])
    np.testing.assert_allclose(weather, full[0], atol=1e-5)
    np.testing.assert_allclose(ground, full[1], atol=1e-5)
