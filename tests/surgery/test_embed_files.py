"""A frozen .pb carries the files it reads: it runs with its lookups from any directory, with no file beside it.

Each .pb is run with TensorFlow from an empty working directory after running `init_all_tables`,
as a consumer of a frozen graph would, and compared with the source.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

import graphsurgeon as gs
from graphsurgeon import surgery
from graphsurgeon.exporters.graphdef import write_graph_def

v1 = tf.compat.v1
SENTENCES = np.array([["The cat sat on the mat."], ["a DOG, a zebra"], [""], ["mat? Mat! MAT..."]], dtype=object)
WORDS = np.array([b"dog", b"zebra", b"unknown", b"cat"], dtype=object)


def _run_frozen(path, feeds: dict, fetches: list[str]) -> list[np.ndarray]:
    graph_def = v1.GraphDef.FromString(path.read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    with v1.Session(graph=graph) as session:
        session.run("init_all_tables")
        return session.run(fetches, {f"{k}:0": v for k, v in feeds.items()})


def _file_names(path) -> list[bytes]:
    graph_def = v1.GraphDef.FromString(path.read_bytes())
    return [s for n in graph_def.node if n.op == "Const" for s in n.attr["value"].tensor.string_val
            if s.endswith((b".txt", b".tsv"))]


def test_keras_text_vectorization_freezes_with_its_vocabularies_inside(generated, cli, tmp_path, monkeypatch):
    source = generated / "keras3" / "text.keras"
    result = cli("freeze", source, "--outputs", "score", "topics", "-o", tmp_path / "text.pb")
    assert result.code == 0, result.err
    assert "embedded in the .pb" in result.err and "run 'init_all_tables' once" in result.err
    assert _file_names(tmp_path / "text.pb") == []  # no keras_hash_table_N_vocabulary.txt left to look for
    monkeypatch.chdir(tmp_path)  # where the vocabulary file would have been looked for; it is not here
    got = _run_frozen(tmp_path / "text.pb", {"text": SENTENCES}, ["score:0", "topics:0"])
    expected = keras.saving.load_model(source, compile=False).predict(tf.constant(SENTENCES), verbose=0)
    for frozen, want in zip(got, expected[:2]):
        np.testing.assert_allclose(frozen, want, atol=1e-5)


def test_tf2_vocabulary_file_table_is_embedded(generated, tmp_path):
    model = gs.load(generated / "tf2" / "tables", signature="word_ids")
    write_graph_def(surgery.freeze(model, ["Identity"]), tmp_path / "colors.pb")
    saved = tf.saved_model.load(str(generated / "tf2" / "tables")).signatures["word_ids"]
    words = tf.constant(["green", "purple", "red"])
    (expected,) = saved(words=words).values()
    (got,) = _run_frozen(tmp_path / "colors.pb", {"words": words.numpy()}, ["Identity:0"])
    np.testing.assert_array_equal(got, expected.numpy())


def test_tf1_columns_and_read_file_are_read_as_tensorflow_reads_them(generated, cli, tmp_path, monkeypatch):
    source = generated / "file_tables"
    args = ["cut", source, "--inputs", "words", "--outputs", "ids", "scores", "--asset-dir", source / "data"]
    assert cli(*args, "-o", tmp_path / "a.pb").code == 0
    assert cli(*args, "-o", tmp_path / "b.pb").code == 0
    assert (tmp_path / "a.pb").read_bytes() == (tmp_path / "b.pb").read_bytes()
    assert _file_names(tmp_path / "a.pb") == []
    monkeypatch.chdir(tmp_path)
    ids, scores = _run_frozen(tmp_path / "a.pb", {"words": WORDS}, ["ids:0", "scores:0"])
    np.testing.assert_array_equal(ids, [13, 33, -1, 3])  # column 2 of vocab.tsv: 10 * line + 3
    np.testing.assert_allclose(scores, ids * 0.25 + 1.5)


def test_a_file_that_is_not_there_is_one_line_and_no_pb(generated, cli, tmp_path):
    result = cli("cut", generated / "file_tables", "--inputs", "words", "--outputs", "ids", "-o", tmp_path / "ids.pb")
    assert result.code == 1 and "Traceback" not in result.err
    (line,) = result.err.strip().splitlines()
    assert "asset 'vocab.tsv'" in line and "/home/dana/vocab/vocab.tsv" in line and "--asset-dir" in line
    assert list(tmp_path.iterdir()) == []
