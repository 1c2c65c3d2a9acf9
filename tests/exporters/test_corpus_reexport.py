"""Every TF1 SavedModel in the corpus re-exports and verifies against the original, assets and all."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import graphsurgeon as gs
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.verify import verify

TF1_SAVED_MODELS = {
    "serving_half_plus_two_cpu/00000123": (),
    "serving_half_plus_two_mkl/00000123": (),
    "serving_half_plus_two_with_config/00000123": (),
    "serving_half_plus_two_2_versions/00000123": (),
    "serving_matrix_half_plus_two/1": (),
    "tf2onnx_regression_savedmodel": (),
    "tf2onnx_redundant_inputs_savedmodel": (),
    "rust_regression_savedmodel_tf1": ("--tags", "train,serve"),
    "tfx_estimator_export/1646034756": (),
}


def _example(**features) -> bytes:
    feature = {k: tf.train.Feature(float_list=tf.train.FloatList(value=[v])) for k, v in features.items()}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


@pytest.fixture(scope="module")
def sample_inputs():
    # One example each: the mkl model's conv outputs are [1,10,10,1] and broadcast only against batch 1.
    examples = np.array([_example(x=3.0, x2=3.0)], dtype=object)
    return {"tf_example": examples, "inputs": examples, "examples": np.array([b""], dtype=object),
            "input_example_tensor": np.array([b""], dtype=object),
            "x": np.array([[3.0]], np.float32), "x2": np.array([[3.0]], np.float32)}


@pytest.mark.parametrize("name", sorted(TF1_SAVED_MODELS))
def test_reexport_verifies_against_original(corpus, tmp_path, cli, name, sample_inputs):
    source = corpus / name
    result = cli("export", source, *TF1_SAVED_MODELS[name], "-o", tmp_path / "out")
    assert result.code == 0, result.err
    exported = tmp_path / "out" / "1"
    # With nothing but the folder, verify replays the recorded recipe against the source, inventing every
    # input (tf.Examples for the ParseExample signatures included).
    plain = cli("verify", exported)
    assert plain.code == 0, plain.out
    assert "replaying the recipe" in plain.out
    strings = {k for sig in gs.load(exported).signatures.values() for k, info in sig.inputs.items()
               if info.dtype == dt.enum_of("string")}
    report = verify(exported, feeds={k: v for k, v in sample_inputs.items() if k in strings})
    assert report.compared_with == str(source)
    assert report.ok, [f for f in report.findings if not f.ok] + [c for c in report.signatures if not c.ran]
    assert all(c.ran for c in report.signatures), [c.note for c in report.signatures if not c.ran]
    original = gs.load(source, tags=TF1_SAVED_MODELS[name][1].split(",") if TF1_SAVED_MODELS[name] else None)
    for asset in original.assets:
        if (source / "assets" / asset.filename).is_file():
            assert (exported / "assets" / asset.filename).read_bytes() == (source / "assets" / asset.filename).read_bytes()
    if (source / "assets.extra").is_dir():
        for extra in (source / "assets.extra").iterdir():
            assert (exported / "assets.extra" / extra.name).read_bytes() == extra.read_bytes()
    assert set(gs.load(exported).signatures) >= {k for k in original.signatures if not k.startswith("__")}


def test_half_plus_two_numbers(corpus, tmp_path, cli):
    assert cli("export", corpus / "serving_half_plus_two_cpu" / "00000123", "-o", tmp_path / "out").code == 0
    from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader

    [[y]] = run_in_cpp_loader(tmp_path / "out" / "1", ["serve"],
                              [Run({"x:0": np.array([[1], [2], [5]], np.float32)}, ["y:0"])])
    np.testing.assert_allclose(y.ravel(), [2.5, 3.0, 4.5])
