"""graphsurgeon verify as a CI gate: lint findings, C++ loader runs, --against, exit codes, --json."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon.exporters.saved_model import export_saved_model
from tests.tiny import extract


@pytest.fixture(scope="module")
def exported(generated, tmp_path_factory):
    model = extract(gs.load(generated / "encoder_decoder"), ["images_ph"], ["encoder/out"])
    return export_saved_model(model, tmp_path_factory.mktemp("serve") / "enc")


def test_verify_against_source_passes_with_json(cli, exported, generated):
    result = cli("verify", exported, "--against", generated / "encoder_decoder", "--json")
    assert result.code == 0, result.out
    report = json.loads(result.out)
    assert report["ok"] and {f["check"] for f in report["findings"]} >= {
        "version folder", "variables.index", "assets", "one init op", "serve tag and serving_default",
        "saved_model.pb size", "C++ runtime ops"}
    (sig,) = report["signatures"]
    assert sig["ran"] and sig["outputs"][0]["max_abs_error"] <= 1e-6


def test_user_inputs_from_npz(cli, exported, tmp_path):
    np.savez(tmp_path / "in.npz", images_ph=np.zeros((4, 32, 32, 3), np.float32))
    result = cli("verify", exported, "--feeds", tmp_path / "in.npz")
    assert result.code == 0 and "serving_default/out: float32[4, 128]" in result.out


def test_non_numeric_folder_and_missing_index_fail(cli, exported, tmp_path):
    broken = tmp_path / "latest"
    shutil.copytree(exported, broken)
    (broken / "variables" / "variables.index").unlink()
    result = cli("verify", broken)
    assert result.code == 1
    assert "FAIL version folder" in result.out and "FAIL variables.index" in result.out


def test_tolerance_failure_exits_1(cli, exported, generated):
    result = cli("verify", exported, "--against", generated / "encoder_decoder", "--atol", "-1", "--rtol", "0")
    assert result.code == 1 and "FAIL serving_default/out" in result.out


def test_not_a_saved_model(cli, tmp_path):
    result = cli("verify", tmp_path)
    assert result.code == 1 and "is not a SavedModel directory" in result.err
