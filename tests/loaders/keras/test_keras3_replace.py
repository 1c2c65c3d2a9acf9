"""--replace-layer for Keras 3 sources (.keras archives and Keras 3 .h5): the user's function stands in for a layer.

lambda.keras / lambda.h5 (fixtures/keras3_models.py): `values` [N,4] -> Lambda `double_plus_one` (t*2+1, stored
as bytecode) -> Dense `scores`. two_heads: a Dense `shared` called twice, with Dense layers after it.
"""
from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
import zipfile

import h5py
import keras
import numpy as np
import pytest

from graphsurgeon import errors
from graphsurgeon.loaders.keras import config as kc
from graphsurgeon.loaders.keras.keras3_replace import replaced
from graphsurgeon.loaders.keras.safety import UnsafeKerasConfigError, check_config
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader

FUNCTIONS = '''import keras

def double_plus_one(t):
    return t * 2.0 + 1.0

def first_three(t):
    return t[:, :3]

def broken(t):
    raise RuntimeError("the user's function failed")
'''
VALUES = np.random.default_rng(5).random((3, 4), dtype=np.float32)


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    path = tmp_path_factory.mktemp("replacement") / "repl.py"
    path.write_text(FUNCTIONS)
    return path


def _scores(path) -> np.ndarray:
    [[got]] = run_in_cpp_loader(path, ["serve"], [Run({"values:0": VALUES}, ["scores:0"])])
    return got


def _config(source) -> dict:
    if source.suffix == ".keras":
        return json.loads(zipfile.ZipFile(source).read("config.json"))
    with h5py.File(source) as f:
        return json.loads(f.attrs["model_config"])


def _lambda_bytecode(source) -> bytes:
    layer = next(layer for layer in kc.layer_dicts(_config(source)) if layer["class_name"] == "Lambda")
    return base64.decodebytes(layer["config"]["function"]["config"]["code"].encode())


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_export_with_the_replacement_equals_keras_predict(generated, cli, tmp_path, module, suffix):
    source = generated / "keras3" / f"lambda{suffix}"
    result = cli("export", source, "--replace-layer", f"double_plus_one={module}:double_plus_one",
                 "-o", tmp_path / "serving")
    assert result.code == 0, result.err
    expected = keras.saving.load_model(source, compile=False, safe_mode=False).predict(VALUES, verbose=0)
    np.testing.assert_allclose(_scores(tmp_path / "serving" / "1"), expected, atol=1e-5)


NO_UNMARSHALLING = """
import sys, graphsurgeon as gs
from graphsurgeon.loaders.keras.replace import replacement_functions
source, code, replacement = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3]
hits = []
sys.addaudithook(lambda event, args: hits.append(1) if event == "marshal.loads" and bytes(args[0]) == code else None)
gs.load(source, replace_layers=replacement_functions([replacement]))
print("REPLACED", len(hits))
gs.load(source, unsafe_lambda=True)  # the control: Keras does unmarshal the stored lambda, and the hook sees it
print("UNSAFE", len(hits))
"""


@pytest.mark.slow  # a fresh interpreter imports TensorFlow (seconds)
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_the_stored_bytecode_is_never_unmarshalled(generated, module, suffix):
    source = generated / "keras3" / f"lambda{suffix}"
    result = subprocess.run([sys.executable, "-c", NO_UNMARSHALLING, str(source), _lambda_bytecode(source).hex(),
                             f"double_plus_one={module}:double_plus_one"], capture_output=True, text=True)
    assert "REPLACED 0" in result.stdout, result.stderr[-3000:]
    assert "UNSAFE 0" not in result.stdout and "UNSAFE" in result.stdout, result.stderr[-3000:]


def test_the_safety_scan_accepts_a_lambda_exactly_when_it_is_replaced(generated):
    config = _config(generated / "keras3" / "lambda.keras")
    other = copy.deepcopy(next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Lambda"))
    other["name"] = other["config"]["name"] = "other_lambda"
    config["config"]["layers"].append(other)
    swap = replaced(config, {"double_plus_one": abs}, {})
    assert "__lambda__" in json.dumps(swap.config) and json.dumps(swap.config).count("__lambda__") == 1
    with pytest.raises(errors.LoadError, match="layer 'other_lambda' is a Lambda layer"):
        kc.refuse_unsafe(swap.config, generated / "keras3" / "lambda.keras", False, swap.custom_objects)
    both = replaced(config, {"double_plus_one": abs, "other_lambda": abs}, {})
    kc.refuse_unsafe(both.config, generated / "keras3" / "lambda.keras", False, both.custom_objects)
    with pytest.raises(UnsafeKerasConfigError, match="'double_plus_one'"):  # the name must be one the user gave
        check_config(both.config, "lambda.keras", allow_code=False, custom_names=())


def _one_line_failure(result, out) -> str:
    assert result.code == 1 and "Traceback" not in result.err and not out.exists()
    (line,) = result.err.strip().splitlines()
    return line


@pytest.mark.parametrize("replacement, expected", [
    ("double_plus_on={module}:double_plus_one", "no layer 'double_plus_on' (did you mean 'double_plus_one'?)"),
    ("double_plus_one={missing}:double_plus_one", "--replace-layer double_plus_one: no such file"),
    ("double_plus_one={module}:double_plus_once", "defines no function 'double_plus_once' "
                                                  "(did you mean 'double_plus_one'?)"),
])
def test_a_wrong_name_file_or_function_is_one_line(generated, cli, tmp_path, module, replacement, expected):
    text = replacement.format(module=module, missing=tmp_path / "missing.py")
    result = cli("export", generated / "keras3" / "lambda.keras", "--replace-layer", text, "-o", tmp_path / "out")
    assert expected in _one_line_failure(result, tmp_path / "out")


@pytest.mark.parametrize("function, reasons", [  # (a .keras fails when `scores` is called, a .h5 when it is loaded)
    ("first_three", ("but received input with shape (None, 3)", "variable.shape=(3, 2), Received: value.shape=(4, 2)")),
    ("broken", ("RuntimeError: the user's function failed",)),
])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_replacement_that_does_not_fit_is_one_line_naming_layer_and_function(generated, cli, tmp_path, module,
                                                                               suffix, function, reasons):
    result = cli("export", generated / "keras3" / f"lambda{suffix}", "--replace-layer",
                 f"double_plus_one={module}:{function}", "-o", tmp_path / "out")
    line = _one_line_failure(result, tmp_path / "out")
    assert f"layer 'double_plus_one' by repl.py:{function} (--replace-layer)" in line
    assert any(reason in line for reason in reasons), line


@pytest.mark.slow  # four traces (seconds each)
def test_any_layer_can_be_replaced_and_later_layers_keep_their_weights(generated, cli, tmp_path):
    """`shared` (a Dense called twice) becomes the user's function computing the same thing. Keras names a
    .keras file's weight groups by class and position, so the Dense layers after it are renumbered: their
    weights must still reach them (else the outputs differ)."""
    source = generated / "keras3" / "two_heads.keras"
    model = keras.saving.load_model(source, compile=False)
    kernel, bias = model.get_layer("shared").get_weights()
    (tmp_path / "same.py").write_text(f"import keras, numpy as np\nK = np.array({kernel.tolist()}, np.float32)\n"
                                      f"B = np.array({bias.tolist()}, np.float32)\n"
                                      "def shared(t):\n    return keras.ops.tanh(keras.ops.matmul(t, K) + B)\n")
    feeds = {name: np.random.default_rng(6).random((3, n), dtype=np.float32) for name, n in (("features", 8),
                                                                                              ("extra", 4))}
    expected = model.predict([feeds["features"], feeds["extra"]], verbose=0)
    for suffix in (".keras", ".h5"):
        out = tmp_path / suffix[1:]
        result = cli("export", source.with_suffix(suffix), "--replace-layer", f"shared={tmp_path / 'same.py'}:shared",
                     "-o", out)
        assert result.code == 0, result.err
        got = run_in_cpp_loader(out / "1", ["serve"], [Run({f"{k}:0": v for k, v in feeds.items()},
                                                           ["score:0", "classes:0"])])[0]
        for g, want in zip(got, expected):
            np.testing.assert_allclose(g, want, atol=1e-5)


def test_cut_at_the_replaced_layer(generated, cli, tmp_path, module):
    from tests.tfrun import run_pb

    result = cli("cut", generated / "keras3" / "lambda.keras", "--replace-layer",
                 f"double_plus_one={module}:double_plus_one", "--outputs", "double_plus_one", "-o", tmp_path / "d.pb")
    assert result.code == 0, result.err
    (got,) = run_pb(tmp_path / "d.pb", {"values": VALUES}, ["double_plus_one:0"])
    np.testing.assert_allclose(got, VALUES * 2 + 1, atol=1e-6)


@pytest.mark.slow  # an export and a verify that traces the source again
def test_verify_takes_the_replacement_from_the_user_never_from_the_record(generated, cli, tmp_path, module,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    replacement = f"double_plus_one={module}:double_plus_one"
    assert cli("export", generated / "keras3" / "lambda.keras", "--replace-layer", replacement,
               "-o", tmp_path / "s").code == 0
    path = tmp_path / "s" / "1"
    record = json.loads((path / "assets.extra" / "graphsurgeon_recipe.json").read_text())
    assert record["recipe"]["replace_layers"] == [replacement]
    refused = cli("verify", path, "--json")
    assert refused.code == 1
    [finding] = [f for f in json.loads(refused.out)["findings"] if f["check"] == "recorded recipe"]
    assert not finding["ok"] and f"pass --replace-layer {replacement} to verify" in finding["message"]
    assert cli("verify", path, "--replace-layer", replacement).code == 0
    # A record edited to name another file: verify does not import it.
    (tmp_path / "evil.py").write_text("open('IMPORTED', 'w').close()\ndef double_plus_one(t):\n    return t\n")
    record["recipe"]["replace_layers"] = [f"double_plus_one={tmp_path / 'evil.py'}:double_plus_one"]
    (path / "assets.extra" / "graphsurgeon_recipe.json").write_text(json.dumps(record))
    assert cli("verify", path).code == 1 and not (tmp_path / "IMPORTED").exists()
