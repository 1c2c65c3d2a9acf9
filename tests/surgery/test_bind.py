"""--set: binding is_training/keep_prob folds batch norm's cond and removes the training branch."""
from __future__ import annotations

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon import errors, surgery
from graphsurgeon.exporters.graphdef import write_graph_def
from tests.tfrun import run_checkpoint, run_pb
from tests.tiny import extract


@pytest.fixture(scope="module")
def folded(generated):
    return extract(gs.load(generated / "bn_dropout"), ["x"], ["logits"],
                      bindings={"is_training": False, "keep_prob": 1.0})


def test_untaken_branch_and_training_statistics_disappear(folded):
    ops = {n.op for n in folded.graph}
    names = {n.name for n in folded.graph}
    assert not ops & {"Switch", "Merge", "Assign", "AssignSub"}
    assert not any(n.startswith("bn/moments") or n.startswith("bn/cond/Assign") for n in names)
    assert [n.name for n in folded.graph if n.op == "Placeholder"] == ["x"]
    assert "is_training" not in names  # its only consumers were the folded Switches


def test_folded_graph_equals_inference_mode_of_original(folded, generated, tmp_path):
    write_graph_def(folded, tmp_path / "bn.pb")
    x = np.random.default_rng(3).standard_normal((5, 16)).astype(np.float32)
    ckpt = generated / "bn_dropout" / "model.ckpt-3"
    (expected,) = run_checkpoint(f"{ckpt}.meta", str(ckpt), {"x": x, "is_training": False, "keep_prob": 1.0},
                                 ["logits:0"])
    (actual,) = run_pb(tmp_path / "bn.pb", {"x": x}, ["logits:0"])
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_binding_true_keeps_the_training_branch(generated):
    model = surgery.bind(gs.load(generated / "bn_dropout"), {"is_training": True})
    merges = [n for n in model.graph if n.name.startswith("bn/cond/Merge")]
    assert merges and all(m.op == "Identity" for m in merges)
    assert all("moments" in m.inputs[0].node or "Identity" in m.inputs[0].node for m in merges)


def test_bad_binding_value_is_clear(generated):
    with pytest.raises(errors.UsageError, match="--set is_training: 'yes' is not a valid bool"):
        surgery.bind(gs.load(generated / "bn_dropout"), {"is_training": "yes"})
