"""graphsurgeon audit: bytes by where they live, what a cut saves and why, risks with fixes, JSON, budget."""
from __future__ import annotations

import json

import pytest

import graphsurgeon as gs
from graphsurgeon.audit.report import audit
from graphsurgeon.ir.model import FORMATS
from tests.audit.schema import SCHEMA, audit_json


def _encoder_variable_bytes(model) -> int:
    return sum(model.weights[k].nbytes for k in model.weights if k.startswith("encoder/") and "Adam" not in k)


def test_kept_bytes_are_exactly_the_encoder_variables(generated):
    model = gs.load(generated / "encoder_decoder")
    report = audit(model, ["images_ph"], ["encoder/out"])
    assert report.kept.bytes.variables == _encoder_variable_bytes(model)
    groups = {(g.group, g.reason): g for g in report.removable_groups}
    assert groups[("decoder/", "not needed by the outputs")].nbytes > 1_000_000
    # Adam keeps two slots per variable: twice the encoder's and the decoder's bytes, plus beta powers.
    assert groups[("optimizer state", "training only")].nbytes > 4_000_000
    assert ("preprocess/", "upstream of the inputs") in groups
    assert report.removable.bytes.total + report.kept.bytes.total == report.total.total


def test_cut_file_size_within_five_percent_of_estimate(generated, tmp_path, cli):
    report = audit(gs.load(generated / "encoder_decoder"), ["images_ph"], ["encoder/out"])
    assert cli("cut", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out",
               "-o", tmp_path / "enc.pb").code == 0
    measured = (tmp_path / "enc.pb").stat().st_size
    estimate = report.headroom.frozen_graph_def_bytes
    print(f"frozen GraphDef: estimated {estimate} bytes, measured {measured} ({100 * estimate / measured - 100:+.2f}%)")
    assert abs(estimate - measured) <= 0.05 * measured


def test_hazards_are_flagged_with_fixes(generated):
    report = audit(gs.load(generated / "hazards"), [], ["scores"])
    kinds = {r.kind: r for r in report.risks}
    assert {"side-effect op", "missing asset", "init-order hazard"} <= set(kinds)
    side_effects = {r.node for r in report.risks if r.kind == "side-effect op"}
    assert side_effects == {"double_in_python", "log_scores"}  # the PyFunc and the WriteFile
    assert "vocab_asset_path" in kinds["init-order hazard"].message
    assert "/nonexistent/hazards/vocab.txt" in kinds["missing asset"].message
    assert all(r.fix for r in report.risks)
    assert report.tables[0]["asset"] == "vocab.txt"


def test_ref_typed_signature_outputs_are_flagged(corpus):
    report = audit(gs.load(corpus / "serving_counter" / "00000123"))
    assert {r.node for r in report.risks if r.kind == "ref-typed output"} >= {"counter:0"}


def test_tfx_estimator_tables_and_vocab_assets(corpus):
    report = audit(gs.load(corpus / "tfx_estimator_export" / "1646034756"))
    assert len(report.tables) == 4
    assert {t["asset"] for t in report.tables} == {"vocab_compute_and_apply_vocabulary_vocabulary",
                                                   "vocab_compute_and_apply_vocabulary_1_vocabulary"}
    assert report.total.assets > 0


def test_half_plus_two_with_config_missing_asset(corpus):
    report = audit(gs.load(corpus / "serving_half_plus_two_with_config" / "00000123"))
    (missing,) = [r for r in report.risks if r.kind == "missing asset"]
    assert "foo.txt" in missing.message


def test_keras_lstm_saved_model(corpus):
    report = audit(gs.load(corpus / "tfnet_keras_lstm_sequential", trace=False), by="dtype")
    assert report.total.variables > 50_000 and report.kept.bytes.variables > 0
    assert report.groups[0]["name"] == "float32"


def test_audit_reads_no_weights(generated, monkeypatch):
    model = gs.load(generated / "encoder_decoder")
    monkeypatch.setattr(type(model.weights), "read", lambda self, key: pytest.fail(f"read {key}"))
    audit(model, ["images_ph"], ["encoder/out"])


def test_json_matches_documented_schema(cli, generated, corpus):
    for args in ([generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out", "--budget", "1GB"],
                 [generated / "hazards", "--by", "op"], [corpus / "tfx_estimator_export" / "1646034756", "--by", "dtype"]):
        result = cli("audit", *args, "--json")
        assert result.code == 0, result.err
        audit_json(result.out)


def test_the_schema_names_every_format_a_loader_reports():
    assert SCHEMA["properties"]["model"]["properties"]["format"]["enum"] == list(FORMATS)


def test_budget_exits_on_either_side_of_the_kept_total(cli, generated):
    kept = audit(gs.load(generated / "encoder_decoder"), ["images_ph"], ["encoder/out"]).kept.bytes.total
    base = ["audit", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out", "--budget"]
    assert cli(*base, str(kept)).code == 0
    over = cli(*base, str(kept - 1))
    assert over.code == 1 and "OVER" in over.out
    assert cli(*base, "1.5MiB").code == 0 and cli(*base, "1MB").code == 1
    bad = cli(*base, "lots")
    assert bad.code == 1 and "cannot parse size 'lots'" in bad.err


def test_text_report_summary_comes_first(cli, generated):
    out = cli("audit", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out").out
    lines = out.splitlines()
    assert lines[1].startswith("total ") and lines[2].startswith("kept ") and lines[3].startswith("removes ")
    assert "optimizer state" in out and "upstream of the inputs" in out


def test_audit_and_cut_agree_on_the_bundled_example(cli, generated, tmp_path):
    """audit renders the Plan as cut applies it (freeze, cut, strip): the same kept nodes and bytes."""
    cut = ["--inputs", "images_ph", "--outputs", "encoder/out"]
    audited = audit_json(cli("audit", generated / "encoder_decoder", *cut, "--json").out)
    written = json.loads(cli("cut", generated / "encoder_decoder", *cut, "-o", tmp_path / "enc.pb", "--json").out)
    assert audited["kept"]["nodes"] == written["kept_nodes"] == 18  # the six variables' Identity reads are stripped
    assert sum(audited["kept"]["bytes"].values()) == written["kept_bytes"]
    assert audited["removable"]["nodes"] == written["removed_nodes"]
    assert sum(audited["removable"]["bytes"].values()) == written["removed_bytes"]
    stripped = {(g["group"], g["reason"]): g["nodes"] for g in audited["removable_groups"]}
    assert stripped[("encoder/", "stripped by the cut")] == 6


def test_largest_lists_are_the_cuts(generated):
    report = audit(gs.load(generated / "encoder_decoder"), ["images_ph"], ["encoder/out"])
    kept = [w.name for w in report.top]
    assert kept[0] == "encoder/fc/w" and all(name.startswith("encoder/") and "Adam" not in name for name in kept)
    removed = [w.name for w in report.top_removed]
    assert {"decoder/fc/w", "encoder/fc/w/Adam", "decoder/fc/w/Adam_1"} <= set(removed)


def test_resource_variables_count_as_the_cut_counts_them(generated, tmp_path, cli):
    """A VarHandleOp is frozen into its reads: cut drops the handle and keeps its bytes in the read's constant."""
    cut = ["--inputs", "ids", "--outputs", "scores"]
    audited = audit_json(cli("audit", generated / "resource_vars", *cut, "--json").out)
    written = json.loads(cli("cut", generated / "resource_vars", *cut, "-o", tmp_path / "r.pb", "--json").out)
    assert audited["kept"]["nodes"] == written["kept_nodes"]
    assert sum(audited["kept"]["bytes"].values()) == written["kept_bytes"] > 0
