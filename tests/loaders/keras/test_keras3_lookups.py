"""Keras 3 IntegerLookup and TextVectorization: vocabularies in the archive become tables over asset files.

StringLookup's test is in test_keras3.py. Each model is exported once per module
and run in TensorFlow's C++ loader on in- and out-of-vocabulary inputs.
"""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import graphsurgeon as gs
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from tests.loaders.keras.test_keras3 import _rewritten

SENTENCES = np.array([["The cat sat on the mat."], ["a DOG, a zebra; and   more unknown words than fit"], [""],
                      ["mat? Mat! MAT..."]], dtype=object)
IDS = np.array([[7, 42], [3, 1000], [5, -1], [42, 99]], dtype=np.int64)  # 5, -1 and 99 are out of vocabulary


@pytest.fixture(scope="module")
def exported(generated, tmp_path_factory):
    """{fixture name: (source, exported version folder)}, each exported once through the CLI's library call."""
    from graphsurgeon.cli.main import main

    out = tmp_path_factory.mktemp("lookups")
    done = {}
    for name in ("int_lookup", "text"):
        source = generated / "keras3" / f"{name}.keras"
        assert main(["export", str(source), "-o", str(out / name)]) == 0
        done[name] = (source, out / name / "1")
    return done


def _served(path, feeds: dict, outputs: list[str]) -> list[np.ndarray]:
    [got] = run_in_cpp_loader(path, ["serve"], [Run({f"{k}:0": v for k, v in feeds.items()},
                                                    [f"{o}:0" for o in outputs])])
    return got


def _predicted(source, inputs: np.ndarray) -> list[np.ndarray]:
    expected = keras.saving.load_model(source, compile=False).predict(tf.constant(inputs), verbose=0)
    return expected if isinstance(expected, list) else [expected]


def test_integer_lookup_serves_with_its_vocabulary_as_an_asset(exported):
    source, path = exported["int_lookup"]
    vocabularies = sorted(f.read_text().split() for f in (path / "assets").iterdir())
    assert vocabularies == [["3", "7", "42"], ["7", "42", "3", "1000"]]  # given in the config; adapted (assets/)
    ops = {n.op for n in gs.load(path, trace=False).graph}
    assert "InitializeTableFromTextFileV2" in ops and "LookupTableImportV2" not in ops
    got, expected = _served(path, {"ids": IDS}, ["score", "tags"]), _predicted(source, IDS)
    assert len(got) == len(expected) == 2
    for served, want in zip(got, expected):  # int ids; multi_hot over a vocabulary the config gives
        np.testing.assert_allclose(served, want, atol=1e-5)


def test_text_vectorization_serves_string_sentences(exported):
    source, path = exported["text"]
    got, expected = _served(path, {"text": SENTENCES}, ["score", "topics", "pooled"]), _predicted(source, SENTENCES)
    assert len(got) == len(expected) == 3
    for served, want in zip(got, expected):  # int ids padded to 5, multi_hot, ragged ids (nan for "")
        np.testing.assert_allclose(served, want, atol=1e-5)
    ops = {n.op for n in gs.load(path, trace=False).graph}
    assert {"StringLower", "StaticRegexReplace", "StringSplitV2", "LookupTableFindV2"} <= ops
    # One table per layer: TextVectorization's first, unused table (it loads its vocabulary twice) is pruned.
    assert len(list((path / "assets").iterdir())) == 3 and "LookupTableImportV2" not in ops


def test_tf_idf_text_vectorization_is_refused_in_one_line(generated, cli, tmp_path):
    def tf_idf(config):
        next(layer for layer in config["config"]["layers"]
             if layer["config"]["name"] == "bag_of_words")["config"]["output_mode"] = "tf_idf"
        return config

    source = _rewritten(generated / "keras3" / "text.keras", tmp_path / "tf_idf.keras", config_change=tf_idf)
    result = cli("export", source, "-o", tmp_path / "out")
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
    assert "layer 'bag_of_words' is a TextVectorization with output_mode='tf_idf'" in result.err
    assert "reads its IDF weights as numbers" in result.err


def test_named_variables_are_indexed_after_numbered_ones():
    # A tf_idf lookup stores `idf_weights` beside numbered variables; inspect once failed parsing it as a number.
    from graphsurgeon.loaders.keras.config import weights_by_layer

    config = {"class_name": "Functional", "config": {"layers": [
        {"class_name": "TextVectorization", "config": {"name": "vectorize"}}]}}
    groups = {"layers/text_vectorization": {"idf_weights": ("idf",), "10": ("ten",), "2": ("two",)}}
    assert weights_by_layer(config, groups) == {"vectorize": ["two", "ten", "idf"]}
