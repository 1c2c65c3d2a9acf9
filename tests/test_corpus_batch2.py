"""Batch 2 of ../shared/corpus (MANIFEST.md, "Test per artifact (batch 2)"), numbers from each reference/*.npz.

Non-Keras-3 artifacts done here: guesslang 2.2.1 (an Estimator SavedModel with a string front end) and
the two keyword-spotting frozen graphs (an audio front end; a v1 while loop).
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon import errors
from graphsurgeon.exporters.graphdef import write_graph_def
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from tests.tfrun import run_pb
from tests.tiny import extract


def _reference(corpus, folder: str, name: str) -> dict[str, np.ndarray]:
    with np.load(corpus / folder / "reference" / name, allow_pickle=True) as data:
        return {key: data[key] for key in data.files}


# ---------------------------------------------------------------- guesslang 2.2.1 (Estimator SavedModel)

GUESSLANG = "guesslang_2_2_1_savedmodel"


@pytest.fixture(scope="module")
def guesslang(corpus):
    return gs.load(corpus / GUESSLANG / "model")


@pytest.fixture(scope="module")
def guesslang_reference(corpus):
    ref = _reference(corpus, GUESSLANG, "guesslang_2_2_1_savedmodel__predict.npz")
    ref["content"] = np.array([s.encode() for s in ref["content"]], dtype=object)
    return ref


def test_guesslang_logits_cut_keeps_the_string_loop_and_drops_summaries_and_table(guesslang, guesslang_reference,
                                                                                  tmp_path):
    cut = extract(guesslang, ["Placeholder:0"], ["add:0"])
    ops = Counter(n.op for n in cut.graph)
    assert ops["StatelessWhile"] == 1 and ops["StringToHashBucketFast"] == 2  # map/while over strings, hashing
    assert not [op for op in ops if "Summary" in op or op.startswith(("HashTable", "LookupTable"))]
    assert not [n.name for n in cut.graph if "zero_fraction" in n.name]
    # The bodies of the dead zero_fraction conds leave the library with their callers.
    assert sorted(f.signature.name for f in cut.graph.library.function) == ["map_while_body_49115",
                                                                             "map_while_cond_49114"]
    path = tmp_path / "logits.pb"
    write_graph_def(cut, path)
    (logits,) = run_pb(path, {"Placeholder": guesslang_reference["content"]}, ["add:0"])
    np.testing.assert_allclose(logits, guesslang_reference["logits"], atol=1e-5)


@pytest.mark.slow  # two C++ loader runs of an exported SavedModel
def test_guesslang_predict_export_keeps_the_class_table_and_its_init(corpus, cli, guesslang_reference, tmp_path):
    result = cli("export", corpus / GUESSLANG / "model", "-o", tmp_path / "guesslang")
    assert result.code == 0, result.err
    exported = gs.load(tmp_path / "guesslang" / "1", trace=False)
    assert [n for n in exported.init_ops if "table_init" in n]  # the class-name table's initializer
    sig = exported.signatures["predict"]
    fetches = [sig.outputs[k].name for k in ("classes", "logits", "probabilities")]
    ((classes, logits, probabilities),) = run_in_cpp_loader(
        tmp_path / "guesslang" / "1", ["serve"], [Run({sig.inputs["content"].name: guesslang_reference["content"]},
                                                      fetches)])
    assert classes.ravel().tolist() == [b"yaml", b"c"]
    np.testing.assert_allclose(logits, guesslang_reference["logits"], atol=1e-5)
    np.testing.assert_allclose(probabilities, guesslang_reference["probabilities"], atol=1e-6)


# ---------------------------------------------------------------- keyword spotting (frozen, audio front end)

DS_CNN = ("kws_ds_cnn_s_frozen", "Pretrained_models/DS_CNN/DS_CNN_S.pb", "kws_ds_cnn_s_frozen__labels_softmax.npz")
LSTM = ("kws_lstm_s_frozen", "Pretrained_models/LSTM/LSTM_S.pb", "kws_lstm_s_frozen__labels_softmax.npz")


def _wav(corpus, folder: str) -> bytes:
    return (corpus / folder / "reference" / "kws_test_440hz_1s_16k.wav").read_bytes()


@pytest.mark.slow  # two C++ loader runs of an exported SavedModel
def test_ds_cnn_front_end_and_classifier_compose_to_the_original(corpus, cli, tmp_path):
    folder, graph, reference = DS_CNN
    source = corpus / folder / graph
    ref = _reference(corpus, folder, reference)
    wav = _wav(corpus, folder)
    assert wav == ref["wav_data"].tobytes()
    # The front end as a SavedModel: wav bytes -> MFCC, run by the C++ loader.
    result = cli("export", source, "--inputs", "wav_data", "--outputs", "Mfcc", "-o", tmp_path / "front")
    assert result.code == 0, result.err
    ((mfcc,),) = run_in_cpp_loader(tmp_path / "front" / "1", ["serve"], [Run({"wav_data:0": np.array(wav, object)},
                                                                              ["Mfcc:0"])])
    np.testing.assert_allclose(mfcc, ref["mfcc"], atol=1e-4)
    # The classifier from a new f32[1,49,10] Placeholder at Mfcc:0.
    classifier = extract(gs.load(source), ["Mfcc:0"], ["labels_softmax"])
    placeholder = classifier.graph["Mfcc"]
    assert placeholder.op == "Placeholder"
    assert [d.size for d in placeholder.attrs["shape"].shape.dim] == [1, 49, 10]
    assert not [n for n in classifier.graph if n.op in ("DecodeWav", "AudioSpectrogram", "Mfcc")]
    write_graph_def(classifier, tmp_path / "classifier.pb")
    (probabilities,) = run_pb(tmp_path / "classifier.pb", {"Mfcc": mfcc}, ["labels_softmax:0"])
    (original,) = run_pb(source, {"wav_data": wav}, ["labels_softmax:0"])
    np.testing.assert_allclose(probabilities, original, atol=1e-6)
    np.testing.assert_allclose(probabilities, ref["labels_softmax"], atol=1e-6)
    assert int(np.argmax(probabilities)) == 3 and probabilities[0, 3] == pytest.approx(0.453694, abs=1e-6)


def test_ds_cnn_batch_norm_folding_is_not_done(corpus):
    """MANIFEST asks that folding FusedBatchNorm into Conv weights keeps outputs within 1e-5. graphsurgeon
    does not fold (a cut keeps the graph's arithmetic as it is); this pins that the ops stay."""
    folder, graph, _ = DS_CNN
    classifier = extract(gs.load(corpus / folder / graph), ["Mfcc:0"], ["labels_softmax"])
    assert Counter(n.op for n in classifier.graph)["FusedBatchNorm"] == 9


def test_lstm_cut_keeps_the_loop_frame(corpus, tmp_path):
    folder, graph, reference = LSTM
    source = corpus / folder / graph
    ref = _reference(corpus, folder, reference)
    model = gs.load(source)
    classifier = extract(model, ["Mfcc:0"], ["labels_softmax"])
    loop = {n.name for n in model.graph if "/rnn/while/" in n.name}
    assert loop and loop <= set(classifier.graph.names)  # the whole frame, Enter to Exit
    assert [d.size for d in classifier.graph["Mfcc"].attrs["shape"].shape.dim] == [1, 25, 10]
    write_graph_def(classifier, tmp_path / "lstm.pb")
    (mfcc,) = run_pb(source, {"wav_data": _wav(corpus, folder)}, ["Mfcc:0"])
    np.testing.assert_allclose(mfcc, ref["mfcc"], atol=1e-4)
    (probabilities,) = run_pb(tmp_path / "lstm.pb", {"Mfcc": mfcc}, ["labels_softmax:0"])
    np.testing.assert_allclose(probabilities, ref["labels_softmax"], atol=1e-6)
    assert int(np.argmax(probabilities)) == 1 and probabilities[0, 1] == pytest.approx(0.943230, abs=1e-6)


def test_lstm_cut_inside_the_loop_frame_is_refused(corpus):
    folder, graph, _ = LSTM
    model = gs.load(corpus / folder / graph)
    exit_node = next(n for n in model.graph if n.op == "Exit")
    inside = exit_node.inputs[0].node
    with pytest.raises(errors.CutError, match=r"runs inside while loop frame .*a loop cannot be split"):
        extract(model, [inside], ["labels_softmax"])
    with pytest.raises(errors.CutError, match="a loop cannot be split"):
        extract(model, ["Mfcc:0"], [inside])


def test_lstm_conversion_to_functional_while_is_not_done(corpus):
    """MANIFEST asks for a control-flow v2 conversion with the same output. graphsurgeon keeps v1 loops
    as they are (TensorFlow's C++ loader and Serving run them); this pins that the v1 loop stays."""
    folder, graph, _ = LSTM
    classifier = extract(gs.load(corpus / folder / graph), ["Mfcc:0"], ["labels_softmax"])
    ops = Counter(n.op for n in classifier.graph)
    assert ops["LoopCond"] == 1 and ops["While"] == 0 and ops["StatelessWhile"] == 0
