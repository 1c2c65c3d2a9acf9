"""Keras 3 archives saved under JAX and PyTorch, exported on TensorFlow against the outputs that backend computed.

Current TensorFlow cannot write them, so they are committed: fixtures/committed/ (made by
fixtures/other_backend.py; its README says with which versions).
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader

COMMITTED = Path(__file__).resolve().parents[3] / "fixtures" / "committed"
BACKENDS = ["jax", "torch"]
BOUND = {"jax": ("jax_doubled", "JaxLayer", "JAX"), "torch": ("torch_linear", "TorchModuleWrapper", "PyTorch")}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Path]:
    """{backend: the version folder `graphsurgeon export` wrote for its two-input archive}, exported once."""
    from graphsurgeon.cli.main import main

    out = tmp_path_factory.mktemp("other_backends")
    for backend in BACKENDS:
        assert main(["export", str(COMMITTED / f"{backend}_two_inputs.keras"), "-o", str(out / backend)]) == 0
    return {backend: out / backend / "1" for backend in BACKENDS}


# Keras 3.15 (which saved the archives) writes `input_axes: null` into every initializer's config. A Keras
# whose initializers lack that argument (3.12.4, the newest pip installs on Python 3.10) cannot rebuild them:
# keras.saving.load_model fails on them too, so this is Keras's limit, not graphsurgeon's.
KERAS_READS_THE_ARCHIVES = "input_axes" in inspect.signature(keras.initializers.VarianceScaling.__init__).parameters


@pytest.mark.skipif(not KERAS_READS_THE_ARCHIVES, reason=(
    f"Keras {keras.__version__} has no initializer argument input_axes, which these archives (saved by Keras "
    "3.15.1) carry; keras.saving.load_model cannot rebuild them either"))
@pytest.mark.parametrize("backend", BACKENDS)
def test_archive_from_another_backend_serves_what_that_backend_predicted(exported, backend):
    reference = np.load(COMMITTED / f"{backend}_two_inputs.npz")
    [got] = run_in_cpp_loader(exported[backend], ["serve"], [Run(
        {"image:0": reference["image"], "meta:0": reference["meta"]}, ["score:0", "classes:0"])])
    np.testing.assert_allclose(got[0], reference["score"], atol=1e-5)
    np.testing.assert_allclose(got[1], reference["classes"], atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_inspect_names_the_inputs_and_outputs_export_uses(cli, backend):
    result = cli("inspect", COMMITTED / f"{backend}_two_inputs.keras", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert [i["name"] for i in report["inputs"]] == ["image", "meta"] and report["outputs"] == ["score", "classes"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_layer_bound_to_its_backend_is_refused_in_one_line(cli, tmp_path, backend):
    layer, wrapper, name = BOUND[backend]
    result = cli("export", COMMITTED / f"{backend}_bound.keras", "-o", tmp_path / "out")
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
    assert f"layer {layer!r} is a {wrapper}, which wraps {name} code" in result.err
