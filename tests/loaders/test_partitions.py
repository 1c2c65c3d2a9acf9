"""Partitioned variables: parts take their region of the full tensor the checkpoint stores, export, and verify.

partitioned_embedding: fixed_size_partitioner(3) on a 4000x32 embedding (3 saved slices
under the full name) and on a dense head; partitioned_single: Estimator-style part_0 variables.
"""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import graphsurgeon as gs
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.ir.region import Region
from graphsurgeon.loaders.bundle import Bundle
from tests.tiny import extract


@pytest.fixture(scope="module")
def embedding(generated):
    return gs.load(generated / "partitioned_embedding")


def test_sliced_entries_are_read_without_tensorflow_and_match_its_reader(generated, embedding):
    prefix = str(generated / "partitioned_embedding" / "model.ckpt-1")
    bundle = Bundle(prefix)
    assert not bundle.needs_tensorflow() and len(bundle.saved_slices("embedding/table")) == 3
    reader = tf.train.load_checkpoint(prefix)
    full = reader.get_tensor("embedding/table")
    np.testing.assert_array_equal(embedding.weights.read("embedding/table"), full)
    np.testing.assert_array_equal(bundle.read_region("embedding/table", Region((1000, 8), (2000, 4))),
                                  full[1000:3000, 8:12])  # a box across two saved slices


def test_each_part_reads_its_region_streamed_from_its_saved_slice(generated, embedding):
    full = tf.train.load_checkpoint(str(generated / "partitioned_embedding" / "model.ckpt-1")).get_tensor(
        "embedding/table")
    assert [embedding.weights[f"embedding/table/part_{i}"].shape for i in range(3)] == [(1334, 32), (1333, 32),
                                                                                         (1333, 32)]
    assert embedding.variable_keys["embedding/table/part_1"] == "embedding/table/part_1"
    np.testing.assert_array_equal(embedding.weights.read("embedding/table/part_1"), full[1334:2667])
    chunks = list(embedding.weights.chunks("embedding/table/part_2"))
    assert all(isinstance(c, bytes) for c in chunks)  # straight from the data file: no whole-tensor copy
    assert b"".join(chunks) == full[2667:].astype("<f4").tobytes()


@pytest.mark.parametrize("name, inputs, output, feed", [
    ("partitioned_embedding", "ids", "scores", {"ids": np.array([[0, 1333, 1334, 3999], [2666, 2667, 5, 3000]],
                                                                 np.int32)}),
    ("partitioned_single", "x", "probabilities", {"x": np.random.default_rng(0).random((3, 16), np.float32)}),
])
def test_partitioned_models_export_and_verify_in_the_cpp_loader(generated, tmp_path, name, inputs, output, feed):
    model = extract(gs.load(generated / name), [inputs], [output])
    assert not any(n.op == "VariableV2" for n in model.graph)
    version = export_saved_model(model, tmp_path / name)
    report = gs.verify(version, feeds=feed, against=generated / name)
    assert report.ok, report
    assert report.signatures[0].outputs[0].max_abs_error <= 1e-6
