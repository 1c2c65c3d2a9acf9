"""Switches left at training behaviour and stateful random ops: cut and export warn, audit lists them, a
--set turns each off, --stochastic says the model samples on purpose.

fixtures/training_switches.py: x -> prob (batch norm and dropout under `training`, default True), dropped
(keep_prob, default 0.5), phase_out (keras_learning_phase, default True), sample (random_normal),
mean (nothing random), quiet (dropout under use_dropout, default False).
"""
from __future__ import annotations

import pytest

import graphsurgeon as gs
from graphsurgeon.surgery.select import parse_binding
from tests.audit.schema import audit_json

SWITCHED = ["prob", "dropped", "phase_out"]
OFF = ["training=false", "keep_prob=1.0", "keras_learning_phase=false"]


@pytest.fixture(scope="module")
def source(generated):
    return gs.load(generated / "training_switches")


def _found(source, outputs, **recipe) -> dict[str, str]:
    planned = gs.plan(source, gs.Recipe(inputs=["x"], outputs=outputs, **recipe))
    return {f.node: f.line for f in planned.training_behaviour}


@pytest.mark.parametrize("output, node, default, fix", [
    ("prob", "training", "defaults to true", "--set training=false"),
    ("dropped", "keep_prob", "defaults to 0.5", "--set keep_prob=1.0"),
    ("phase_out", "keras_learning_phase", "defaults to true", "--set keras_learning_phase=false"),
])
def test_a_switch_defaulting_to_training_is_named_with_its_default_and_the_set_that_fixes_it(source, output, node,
                                                                                              default, fix):
    found = _found(source, [output])
    assert list(found) == [node]  # the dropout it turns on is its own finding's, not a second one
    assert f"PlaceholderWithDefault {node!r} {default}" in found[node] and fix in found[node]


def test_a_stateful_random_op_is_named_and_switches_at_inference_are_not(source):
    found = _found(source, ["sample", "mean", "quiet"])
    assert list(found) == ["random_normal/RandomStandardNormal"]
    assert "draws new random numbers at every request" in found["random_normal/RandomStandardNormal"]


def test_the_sets_that_fix_them_silence_them(source):
    assert list(_found(source, SWITCHED)) == ["training", "keep_prob", "keras_learning_phase"]
    # keep_prob=1.0 leaves the dropout's RandomUniform in the graph, drawing for nothing: U >= 0 always
    assert _found(source, SWITCHED, bindings=dict(parse_binding(b) for b in OFF)) == {}


def test_stochastic_says_the_model_samples_on_purpose(source):
    assert len(_found(source, [*SWITCHED, "sample"])) == 4
    assert _found(source, [*SWITCHED, "sample"], stochastic=True) == {}


def test_cut_warns_and_writes_and_stochastic_silences_it(generated, cli, tmp_path):
    model = generated / "training_switches"
    warned = cli("cut", model, "--inputs", "x", "--outputs", *SWITCHED, "sample", "-o", tmp_path / "a.pb")
    assert warned.code == 0 and (tmp_path / "a.pb").is_file()
    lines = [line for line in warned.err.splitlines() if "training behaviour" in line or "random numbers" in line]
    assert len(lines) == 4 and all(line.startswith("warning: ") for line in lines)
    assert "turn it off with --set training=false" in warned.err
    quiet = cli("cut", model, "--inputs", "x", "--outputs", *SWITCHED, "sample", "--stochastic", "-o",
                tmp_path / "b.pb")
    assert quiet.code == 0 and "training behaviour" not in quiet.err and "random numbers" not in quiet.err


def test_audit_lists_them_as_risks(generated, cli):
    model = generated / "training_switches"
    report = cli("audit", model, "--inputs", "x", "--outputs", "prob", "sample", "--json")
    risks = {(r["kind"], r["node"]): r for r in audit_json(report.out)["risks"]}  # kinds the schema names
    assert {("training switch", "training"), ("random op", "random_normal/RandomStandardNormal")} <= set(risks)
    assert risks[("training switch", "training")]["fix"].startswith("turn it off with --set training=false")
    silenced = cli("audit", model, "--inputs", "x", "--outputs", "prob", "sample", "--stochastic", "--json")
    assert not {r["kind"] for r in audit_json(silenced.out)["risks"]} & {"training switch", "random op"}
