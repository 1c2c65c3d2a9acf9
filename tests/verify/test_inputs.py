"""What verify invents is reported (shape, dtype, values, why) and saved, so the same run can be repeated."""
from __future__ import annotations

import numpy as np

from graphsurgeon.formats.npz import read_npz
from tests.verify.conftest import outputs_of, report_of


def test_json_says_what_was_invented_and_why(cli, cases, exported):
    version = exported(cases / "two_outputs" / "model.ckpt-1", inputs=["x"], outputs=["a", "b", "table"])
    report = report_of(cli("verify", version, "--json"))
    (sig,) = report["signatures"]
    assert sig["batches"] == [2, 3]
    assert sig["inputs"] == [{"key": "x", "shape": [2, 4], "dtype": "float32", "values": "uniform in [0, 1)",
                              "why": "the signature's shape; batch 2, then 3"}]


def test_saved_feeds_repeat_the_run(cli, cases, exported, tmp_path):
    version = exported(cases / "domains.pb", inputs=["ids", "label", "flag"], outputs=["pooled", "onehot", "picked"])
    first = cli("verify", version, "--save-feeds", tmp_path / "feeds.npz", "--json")
    assert first.code == 0, first.out
    saved = read_npz(str(tmp_path / "feeds.npz"), "--feeds")
    assert sorted(saved) == ["serving_default/flag", "serving_default/ids", "serving_default/label"]
    assert saved["serving_default/ids"].shape == (2, 5) and saved["serving_default/flag"].dtype == bool
    again = cli("verify", version, "--feeds", tmp_path / "feeds.npz", "--json")
    assert again.code == 0, again.out
    assert report_of(again)["signatures"][0]["inputs"] == []  # nothing invented: all given
    assert {k: o["shape"] for k, o in outputs_of(report_of(again)).items()} == \
        {k: o["shape"] for k, o in outputs_of(report_of(first)).items()}


def test_saved_tf_examples_are_kept_byte_for_byte(cli, corpus, tmp_path):
    assert cli("export", corpus / "serving_half_plus_two_cpu" / "00000123", "-o", tmp_path / "out").code == 0
    version = tmp_path / "out" / "1"
    first = cli("verify", version, "--save-feeds", tmp_path / "feeds.npz", "--json")
    assert first.code == 0, first.out
    invented = {s["key"]: s["inputs"] for s in report_of(first)["signatures"]}
    assert invented["classify_x_to_y"][0]["values"].startswith("tf.Examples for ParseExample")
    saved = read_npz(str(tmp_path / "feeds.npz"), "--feeds")
    examples = saved["classify_x_to_y/inputs"]
    assert examples.dtype == object and all(isinstance(e, bytes) and e for e in examples)
    again = cli("verify", version, "--feeds", tmp_path / "feeds.npz")
    assert again.code == 0, again.out


def test_feeds_of_another_rank_are_refused_before_the_runtime_sees_them(cli, cases, exported, tmp_path):
    version = exported(cases / "two_outputs" / "model.ckpt-1", inputs=["x"], outputs=["a", "b", "table"])
    np.savez(tmp_path / "flat.npz", x=np.ones(4, np.float32))
    result = cli("verify", version, "--feeds", tmp_path / "flat.npz")
    assert result.code == 1
    assert result.err.strip() == ("error: --feeds serving_default/x has shape [4], but the signature takes [?,4]; "
                                  "give an array of that rank")
