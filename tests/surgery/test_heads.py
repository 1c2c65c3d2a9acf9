"""--top-k: softmax (for logits), TopKV2, classes/probabilities, and labels from a table over an asset."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon import surgery
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from tests import graphs
from tests.tfrun import run_checkpoint
from tests.tiny import extract


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_top_k_over_logits_matches_the_original(generated, tmp_path, cli):
    labels = tmp_path / "labels.txt"
    labels.write_text("".join(f"class_{i}\n" for i in range(4)))
    result = cli("export", generated / "bn_dropout", "--inputs", "x", "--outputs", "logits", "--set",
                 "is_training=false", "keep_prob=1.0", "--top-k", "2", "--labels", labels, "-o", tmp_path / "s")
    assert result.code == 0, result.err
    sig = gs.load(tmp_path / "s" / "1").signatures["serving_default"]
    assert sorted(sig.outputs) == ["classes", "labels", "probabilities"]
    x = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    [[classes, probabilities, names]] = run_in_cpp_loader(tmp_path / "s" / "1", ["serve"], [
        Run({"x:0": x}, ["classes:0", "probabilities:0", "labels:0"])])
    ckpt = generated / "bn_dropout" / "model.ckpt-3"
    (logits,) = run_checkpoint(f"{ckpt}.meta", str(ckpt), {"x": x, "is_training": False, "keep_prob": 1.0},
                               ["logits:0"])
    expected = np.argsort(-_softmax(logits), axis=1)[:, :2]
    np.testing.assert_array_equal(classes, expected)
    np.testing.assert_allclose(probabilities, np.take_along_axis(_softmax(logits), expected, 1), atol=1e-6)
    assert names.tolist() == [[f"class_{c}".encode() for c in row] for row in expected]


def test_probabilities_output_is_not_softmaxed_again(corpus):
    model = gs.load(corpus / "faceclf_gender_mini_xception" / "gender_mini_XCEPTION.21-0.95.hdf5")
    head = surgery.add_top_k(extract(model, [], ["predictions"]), "predictions", 1)
    assert not any(n.op == "Softmax" and n.name.startswith("classification_head") for n in head.graph)


def test_bad_head_options_are_clear(generated, tmp_path, cli):
    base = ["export", generated / "keras" / "planet.h5", "-o", tmp_path / "p"]
    two = cli(*base, "--top-k", "3")
    assert two.code == 1 and "has 2 outputs; choose the one for --top-k with --top-k-output" in two.err
    assert cli(*base, "--labels", tmp_path / "none.txt").code == 1
    missing = cli(*base, "--top-k", "3", "--top-k-output", "weather", "--labels", tmp_path / "none.txt")
    assert missing.code == 1 and "no such file" in missing.err and not (tmp_path / "p").exists()


@pytest.mark.slow
def test_labels_in_every_fresh_load_with_1001_classes(tmp_path):
    """
        logits (Placeholder [N,1001]) -> Identity scores -> top 5 -> classes, probabilities, labels
    """
    g = graphs.new()
    graphs.placeholder(g, "logits", [None, 1001])
    graphs.unary(g, "scores", "Identity", "logits")
    model = gs.load(graphs.save(g, tmp_path / "scores.pb"))
    labels = tmp_path / "imagenet_labels.txt"
    labels.write_text("background\n" + "".join(f"synset_{i:04d}\n" for i in range(1, 1001)))
    head = surgery.add_top_k(extract(model, ["logits"], ["scores"]), "scores", 5, labels=str(labels))
    path = export_saved_model(head, tmp_path / "serving")
    x = np.zeros((2, 1001), np.float32)
    x[0, [7, 500, 1000, 1, 42]] = [5, 4, 3, 2, 1]
    x[1, [0, 999]] = [9, 8]
    runs = [Run({"logits:0": x}, ["labels:0"])]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: run_in_cpp_loader(path, ["serve"], runs)[0][0].tolist(), range(50)))
    expected = [[b"synset_0007", b"synset_0500", b"synset_1000", b"synset_0001", b"synset_0042"],
                [b"background", b"synset_0999"]]
    assert all(a[0] == expected[0] and a[1][:2] == expected[1] for a in answers)
