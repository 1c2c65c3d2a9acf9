"""--replace-layer: a user's function stands in for a Lambda (or any layer); stored bytecode is never unmarshalled."""
from __future__ import annotations

import copy
import marshal
import sys

import h5py
import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon import errors
from graphsurgeon.loaders.keras.replace import REGISTERED_PREFIX, LayerReplacement, replace_layers
from graphsurgeon.verify import verify
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader

DISTANCE = '''def abs_difference(tensors):
    a, b = tensors
    return abs(a - b)
'''
# A Keras 2 config as tf_keras writes it: a nested Sequential and a Lambda holding marshalled bytecode.
KERAS2_CONFIG = {"class_name": "Functional", "config": {"name": "model", "layers": [
    {"class_name": "Sequential", "config": {"name": "tower", "layers": [
        {"class_name": "Dense", "config": {"name": "dense", "units": 2}}]}, "inbound_nodes": [[["a", 0, 0, {}]]]},
    {"class_name": "Lambda", "config": {"name": "lambda", "function": ["4wEAAAAA...", None, None],
                                        "function_type": "lambda", "module": "__main__", "arguments": {}},
     "inbound_nodes": [[["tower", 1, 0, {}], ["tower", 2, 0, {}]]]}]}}


def test_replacement_parses_and_rejects_what_it_cannot_use():
    assert LayerReplacement.parse("lambda=dir/m.py:abs_difference") == LayerReplacement("lambda", "dir/m.py",
                                                                                       "abs_difference")
    for text in ("lambda", "lambda=m.py", "=m.py:f", "lambda=m.py:1f"):
        with pytest.raises(errors.UsageError, match="NAME=module.py:function"):
            LayerReplacement.parse(text)


def test_keras2_config_rewritten_without_its_bytecode_and_nested_layers_found():
    function = lambda tensors: tensors  # noqa: E731
    rewritten, objects = replace_layers(KERAS2_CONFIG, {"lambda": function, "dense": function})
    lam = rewritten["config"]["layers"][1]
    assert lam["config"]["function"] == REGISTERED_PREFIX + "lambda" and lam["config"]["function_type"] == "function"
    assert "4wEAAAAA" not in str(rewritten) and lam["inbound_nodes"] == KERAS2_CONFIG["config"]["layers"][1][
        "inbound_nodes"]
    assert rewritten["config"]["layers"][0]["config"]["layers"][0]["class_name"] == "Lambda"
    assert objects == {REGISTERED_PREFIX + "dense": function, REGISTERED_PREFIX + "lambda": function}
    assert KERAS2_CONFIG["config"]["layers"][1]["config"]["function_type"] == "lambda"  # the input is not changed


def test_unknown_layer_names_the_closest():
    with pytest.raises(errors.LoadError, match="no layer 'lamda' \\(did you mean 'lambda'\\?\\)"):
        replace_layers(KERAS2_CONFIG, {"lamda": abs})


def test_keras3_config_deserializes_in_safe_mode_with_the_users_function():
    keras = pytest.importorskip("keras")
    inputs = keras.Input((3,), name="x")
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2, name="double")(inputs))
    config = keras.saving.serialize_keras_object(model)
    with pytest.raises(ValueError, match="(?i)lambda"):
        keras.saving.deserialize_keras_object(copy.deepcopy(config), safe_mode=True)  # it edits the config
    rewritten, objects = replace_layers(config, {"double": lambda t: t * 3}, flavor="keras3")
    rebuilt = keras.saving.deserialize_keras_object(rewritten, custom_objects=objects, safe_mode=True)
    np.testing.assert_allclose(np.asarray(rebuilt(np.ones((1, 3), np.float32))), [[3.0, 3.0, 3.0]])


@pytest.fixture
def no_unmarshalling(monkeypatch):
    """marshal.loads and Keras's func_load raise if anything but Python's own import system calls them."""
    import tf_keras.src.utils.generic_utils as generic_utils

    real = marshal.loads

    def guarded(data, *args, **kwargs):
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if "importlib" not in caller:
            raise AssertionError(f"bytecode unmarshalled by {caller}")
        return real(data, *args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("func_load called: a Lambda's stored bytecode was about to run")

    monkeypatch.setattr(marshal, "loads", guarded)
    monkeypatch.setattr(generic_utils, "func_load", refuse)


@pytest.fixture
def siamese(corpus, tmp_path):
    (tmp_path / "distance.py").write_text(DISTANCE)
    folder = corpus / "k2_pnnl_siamese_lambda"
    return folder / "siamese.h5", f"lambda={tmp_path / 'distance.py'}:abs_difference", np.load(
        folder / "reference" / "k2_pnnl_siamese_lambda__siamese_h5.npz")


@pytest.mark.slow
def test_siamese_lambda_replaced_matches_reference_without_unmarshalling(siamese, tmp_path, cli, no_unmarshalling):
    source, replacement, reference = siamese
    refused = cli("export", source, "-o", tmp_path / "refused")
    assert refused.code == 1 and "'lambda'" in refused.err and "--replace-layer lambda=" in refused.err
    result = cli("export", source, "--replace-layer", replacement, "-o", tmp_path / "siamese")
    assert result.code == 0, result.err
    path = tmp_path / "siamese" / "1"
    [[out]] = run_in_cpp_loader(path, ["serve"], [Run({"input_1:0": reference["in0"], "input_2:0": reference["in1"]},
                                                      ["dense_1:0"])])
    np.testing.assert_allclose(out, reference["out0"], atol=1e-5)
    np.testing.assert_allclose(out.ravel(), [0.011644, 0.013402], atol=1e-6)
    # verify replays the recorded recipe against siamese.h5, but never imports the file a record names:
    # the replacement is the user's to give.
    unreplayed = verify(path)
    assert not unreplayed.ok and any(f"pass --replace-layer {replacement} to verify" in f.message
                                     for f in unreplayed.findings), unreplayed
    report = verify(path, replace_layers=[replacement])
    assert report.ok and all(o.max_abs_error is not None for c in report.signatures for o in c.outputs), report
    # The shared tower's two call sites read the same constants: variables/ holds each weight once.
    with h5py.File(source) as f:
        weights = sum(d.nbytes for d in _datasets(f["model_weights"]))
    stored = sum(p.stat().st_size for p in (path / "variables").glob("variables.data-*"))
    assert weights * 0.99 <= stored <= weights


@pytest.mark.slow
def test_siamese_cut_to_the_shared_tower(siamese, tmp_path, cli, no_unmarshalling):
    source, replacement, reference = siamese
    tower_out = "model/sequential/dense/Selu"
    result = cli("export", source, "--replace-layer", replacement, "--inputs", "input_1", "--outputs", tower_out,
                 "--keys", "input_1=spectrum", f"{tower_out}=embedding", "-o", tmp_path / "tower")
    assert result.code == 0, result.err
    path = tmp_path / "tower" / "1"
    signature = gs.load(path).signatures["serving_default"]
    assert list(signature.inputs) == ["spectrum"] and list(signature.outputs) == ["embedding"]
    runs = [Run({signature.inputs["spectrum"].name: reference[key]}, [signature.outputs["embedding"].name])
            for key in ("in0", "in1")]
    [[left], [right]] = run_in_cpp_loader(path, ["serve"], runs)
    # The head on |tower(a) - tower(b)| gives the model's output: the tower is the shared one.
    with h5py.File(source) as f:
        kernel, bias = (f["model_weights/dense_1/dense_1"][n][()] for n in ("kernel:0", "bias:0"))
    head = 1 / (1 + np.exp(-(np.abs(left - right) @ kernel + bias)))
    np.testing.assert_allclose(head, reference["out0"], atol=1e-5)


def _datasets(group) -> list:
    found = []
    group.visititems(lambda _, item: found.append(item) if isinstance(item, h5py.Dataset) else None)
    return found
