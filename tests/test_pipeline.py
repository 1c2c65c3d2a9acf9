"""One Recipe, planned once: the CLI and the library make the same export, and verify replays its recipe."""
from __future__ import annotations

import json

import pytest

import graphsurgeon as gs
from graphsurgeon import errors
from graphsurgeon.formats import saved_model as layout
from graphsurgeon.ir import resolve
from graphsurgeon.ir import validate as validation
from graphsurgeon.surgery import reach
from tests.audit.schema import audit_json
from tests.tiny import extract


def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_cli_export_and_library_export_are_byte_identical(cli, generated, tmp_path):
    source = str(generated / "encoder_decoder")
    result = cli("export", source, "--inputs", "images_ph", "--outputs", "encoder/out",
                 "--keys", "images_ph=images", "encoder/out=code", "-o", tmp_path / "cli")
    assert result.code == 0, result.err
    recipe = gs.Recipe(inputs=["images_ph"], outputs=["encoder/out"], keys={"images_ph": "images", "encoder/out": "code"})
    exported = gs.export(source, recipe, tmp_path / "lib")
    assert exported.path == tmp_path / "lib" / "1"
    assert _files(tmp_path / "cli" / "1") == _files(exported.path)
    assert exported.signatures["serving_default"].outputs == {"code": "encoder/out:0"}


def test_the_export_records_its_recipe(generated, tmp_path):
    recipe = gs.Recipe(inputs=["x"], outputs=["logits"], bindings={"is_training": False, "keep_prob": 1.0})
    path = gs.export(generated / "bn_dropout", recipe, tmp_path / "bn").path
    record = json.loads((layout.extra(path) / layout.RECIPE_FILE).read_text())
    assert record["recipe"] == {"inputs": [{"name": "x"}], "outputs": ["logits"],
                                "bindings": {"is_training": False, "keep_prob": 1.0}}
    assert record["resolved"]["outputs"] == ["logits:0"] and record["source"]["format"] == "checkpoint"
    assert record["tensorflow"] and record["graphsurgeon"]
    assert all("sha256" in f for f in record["source"]["files"].values())
    assert gs.Recipe.from_json(record["recipe"]) == recipe


def test_verify_replays_set_bindings_against_the_recorded_source(cli, generated, tmp_path):
    assert cli("export", generated / "bn_dropout", "--inputs", "x", "--outputs", "logits",
               "--set", "is_training=false", "keep_prob=1.0", "-o", tmp_path / "bn").code == 0
    result = cli("verify", tmp_path / "bn" / "1")
    assert result.code == 0, result.out
    said = " ".join(result.out.split())  # the line names the source's path, so it may wrap anywhere
    assert "source its recipe names" in said and "max abs" in said


def test_verify_proves_a_relaxed_batch_at_two_sizes_on_the_fixed_source_cut_the_same_way(cli, generated, tmp_path):
    assert cli("export", generated / "fixed_batch", "--inputs", "x=float32[?,3]", "--outputs", "y",
               "-o", tmp_path / "fb").code == 0
    result = cli("verify", tmp_path / "fb" / "1", "--json")
    report = json.loads(result.out)
    assert result.code == 0 and report["ok"], result.out
    (signature,) = report["signatures"]
    (output,) = signature["outputs"]
    # The source's x is fixed at 40; its cut takes the export's [?,3], so both run batch 2, then 3.
    assert signature["batches"] == [2, 3] and output["shape"] == [2, 2] and output["max_abs_error"] is not None


def test_verify_per_output_tolerance(cli, generated, tmp_path):
    assert cli("export", generated / "fixed_batch", "--inputs", "x=float32[?,3]", "--outputs", "y",
               "-o", tmp_path / "fb").code == 0
    result = cli("verify", tmp_path / "fb" / "1", "--atol", "y=-1", "--rtol", "0")
    assert result.code == 1 and "FAIL serving_default/y" in result.out


def test_one_export_resolves_each_name_once_and_sweeps_once(generated, tmp_path, monkeypatch):
    """Every resolution goes through graphsurgeon.ir.resolve (strings and TensorRefs alike): the plan resolves
    each name the recipe holds once, --keys reuse those answers, and no stage resolves again."""
    sweeps = []
    real_init = reach._Sweep.__init__

    def counting_init(self, *args, **kwargs):
        sweeps.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(reach._Sweep, "__init__", counting_init)
    passes = []  # ir.validate.validate ends each whole-graph pass in _acyclic, looked up in its module
    real_acyclic = validation._acyclic
    monkeypatch.setattr(validation, "_acyclic",
                        lambda graph, *rest: passes.append(len(graph)) or real_acyclic(graph, *rest))
    recipe = gs.Recipe(inputs=["x"], outputs=["logits"], bindings={"is_training": False, "keep_prob": 1.0},
                       keys={"x": "pixels", "logits:0": "scores"})
    with resolve.counting() as counts:
        exported = gs.export(generated / "bn_dropout", recipe, tmp_path / "bn")
    assert counts == {"x": 1, "is_training": 1, "keep_prob": 1, "logits": 1, "logits:0": 1}
    assert len(sweeps) == 1
    assert len(passes) == 1  # one structural validation, of the final graph
    signature = exported.signatures["serving_default"]
    assert signature.inputs == {"pixels": "x:0"} and signature.outputs == {"scores": "logits:0"}


def test_a_cut_that_leaves_a_placeholder_unfed_is_a_cut_error_before_freezing(corpus):
    # A MetaGraph without weights: freezing first would fail on a variable's missing value instead.
    source = gs.load(corpus / "tfnet_meta_lstm_crf_ner" / "lstm_crf_ner.meta")
    with pytest.raises(errors.CutError, match="Placeholder 'sequence_lengths'"):
        extract(source, ["word_ids", "char_ids", "word_lengths", "dropout"], ["proj/Reshape_1"])


def test_audit_reports_what_cut_refuses_with_the_same_words(cli, corpus, tmp_path):
    meta = corpus / "tfnet_meta_lstm_crf_ner" / "lstm_crf_ner.meta"
    names = ["--inputs", "word_ids", "char_ids", "word_lengths", "dropout", "--outputs", "proj/Reshape_1"]
    cut = cli("cut", meta, *names, "--init-from-initializers", "-o", tmp_path / "x.pb")
    assert cut.code == 1
    message = cut.err.strip().removeprefix("error: ")
    report = audit_json(cli("audit", meta, *names, "--json").out)
    assert [r["message"] for r in report["risks"] if r["kind"] == "cut refused"] == [message]
    assert not (tmp_path / "x.pb").exists()


def test_audit_reports_what_freezing_refuses_with_the_same_words(cli, corpus, tmp_path):
    """A refusal of freeze's (a variable nobody has a value for) is a Plan problem too, so audit reports it."""
    meta = corpus / "tfnet_meta_lstm_crf_ner" / "lstm_crf_ner.meta"
    names = ["--inputs", "word_ids", "char_ids", "word_lengths", "dropout", "sequence_lengths",
             "--outputs", "proj/Reshape_1"]
    cut = cli("cut", meta, *names, "-o", tmp_path / "x.pb")
    assert cut.code == 1 and "--init-from-initializers" in cut.err
    message = cut.err.strip().removeprefix("error: ")
    report = audit_json(cli("audit", meta, *names, "--json").out)
    assert [r["message"] for r in report["risks"] if r["kind"] == "freeze refused"] == [message]
    assert not (tmp_path / "x.pb").exists()
