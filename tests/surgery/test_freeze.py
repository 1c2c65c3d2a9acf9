"""Freezing resource variables, refusing state updates, and naming what is missing."""
from __future__ import annotations

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon import errors, surgery
from graphsurgeon.exporters.graphdef import write_graph_def
from graphsurgeon.ir.weights import WeightStore
from tests.tfrun import run_checkpoint, run_pb
from tests.tiny import extract


def test_resource_variables_and_resource_gather(generated, tmp_path):
    model = extract(gs.load(generated / "resource_vars"), ["ids"], ["scores"])
    assert not {n.op for n in model.graph} & {"VarHandleOp", "ReadVariableOp", "ResourceGather"}
    write_graph_def(model, tmp_path / "rv.pb")
    ids = np.array([[1, 2, 3, 4, 5], [0, 0, 7, 49, 8]], np.int32)
    ckpt = generated / "resource_vars" / "model.ckpt-1"
    (expected,) = run_checkpoint(f"{ckpt}.meta", str(ckpt), {"ids": ids}, ["scores:0"])
    (actual,) = run_pb(tmp_path / "rv.pb", {"ids": ids}, ["scores:0"])
    np.testing.assert_allclose(actual, expected, atol=1e-6)


def test_output_that_updates_state_is_refused(corpus):
    model = gs.load(corpus / "serving_counter" / "00000123")
    with pytest.raises(errors.FreezeError, match="updates a variable"):
        surgery.freeze(model, ["incr_counter_op/AssignAdd"])


def test_variable_missing_from_checkpoint_names_it(generated):
    model = gs.load(generated / "encoder_decoder")
    model = model.replace(weights=WeightStore())
    with pytest.raises(errors.FreezeError, match=r"ckpt-3.index has no value for 6 variable\(s\).*\(encoder/conv1/w, "):
        surgery.freeze(model, ["encoder/out"])


def test_freeze_reads_no_bytes(generated, monkeypatch):
    model = gs.load(generated / "encoder_decoder")
    monkeypatch.setattr(type(model.weights), "read", lambda self, key: pytest.fail(f"read {key}"))
    frozen = surgery.freeze(model, ["encoder/out"])
    assert frozen.graph["encoder/fc/w"].op == "Const" and frozen.graph["encoder/fc/w"].weight == "encoder/fc/w"
