"""The Plan carries every resolved reference: keys by the names the user typed, bindings, the front end's and
the head's tensors, variables with their checkpoint keys, and every refusal (cut and freeze alike)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon.errors import FreezeError, UsageError
from graphsurgeon.ir.resolve import counting
from graphsurgeon.names import TensorRef
from graphsurgeon.plan import plan
from graphsurgeon.recipe import Recipe
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from tests.tiny import INT32, attr, const, model, op, placeholder

WIDE_INPUTS = ["IteratorGetNext:0", "IteratorGetNext:1", "IteratorGetNext:2"]


def test_keys_follow_the_names_the_user_gave_inputs_of_one_iterator(cli, generated, tmp_path):
    """An Estimator's features are ports of one IteratorGetNext; each becomes its own Placeholder
    (IteratorGetNext_1, ...), and --keys names them as the user did in --inputs."""
    result = cli("export", generated / "wide_inputs", "--inputs", *WIDE_INPUTS, "--outputs", "score",
                 "--keys", "IteratorGetNext:0=day0", "IteratorGetNext:1=day1_return", "IteratorGetNext_2=volume",
                 "score=prediction", "-o", tmp_path / "wide", "--json")
    assert result.code == 0, result.err
    signature = json.loads(result.out)["signatures"]["serving_default"]
    assert signature["inputs"] == {"day0": "IteratorGetNext:0", "day1_return": "IteratorGetNext_1:0",
                                   "volume": "IteratorGetNext_2:0"}
    assert signature["outputs"] == {"prediction": "score:0"}
    rows = {name: np.full((2, 1), value, np.float32) for name, value in zip(signature["inputs"].values(), (1, 2, 3))}
    ((score,),) = run_in_cpp_loader(tmp_path / "wide" / "1", ["serve"], [Run(rows, ["score:0"])])
    assert score.shape == (2, 1)


def test_a_key_for_a_name_that_is_neither_input_nor_output_lists_the_user_s_names(generated):
    recipe = Recipe(inputs=WIDE_INPUTS, outputs=["score"], keys={"IteratorGetNext:3": "label"})
    with pytest.raises(UsageError) as err:
        plan(gs.load(generated / "wide_inputs"), recipe)
    assert str(err.value) == ("--keys IteratorGetNext:3=label: 'IteratorGetNext:3' is neither an input nor an output "
                              "of the export; name one of: IteratorGetNext:0, IteratorGetNext:1, IteratorGetNext:2, "
                              "score")


def split_graph():
    """
        dim --+
        x ----+-> s (Split, 2 outputs) -:1-> right (Tanh) --> out (Identity)
    """
    return model(placeholder("x"), const("dim", 0, INT32), op("s", "Split", ["dim", "x"], num_split=attr(i=2)),
                 op("right", "Tanh", ["s:1"]), op("out", "Identity", ["right"]))


def test_a_key_by_a_port_1_input_names_its_placeholder():
    planned = plan(split_graph(), Recipe(inputs=["s:1"], outputs=["out"], keys={"s:1": "k"}))
    assert planned.inputs[0].placeholder == "s_1"
    assert planned.keys == {TensorRef("s_1"): "k"}


def test_each_name_is_resolved_once_and_recorded():
    recipe = Recipe(inputs=["s:1"], outputs=["out", "out:0"], keys={"s:1": "k", "out": "y"})
    with counting() as counts:
        planned = plan(split_graph(), recipe)
    assert counts == {"s:1": 1, "out": 1, "out:0": 1}
    assert planned.names == {"s:1": (TensorRef("s", 1),), "out": (TensorRef("out"),), "out:0": (TensorRef("out"),)}
    assert planned.outputs == (TensorRef("out"),)


def test_freeze_refusals_are_plan_problems_before_any_weight_is_read(corpus):
    """A MetaGraph without weights whose variables have random initializers: freezing would refuse, so the
    plan says so (audit reports it) and check() raises it."""
    source = gs.load(corpus / "tfnet_meta_lstm_crf_ner" / "lstm_crf_ner.meta")
    planned = plan(source, Recipe(outputs=["proj/Reshape_1"]))
    assert planned.problems and all(isinstance(p, FreezeError) for p in planned.problems)
    assert "has no value in this model (it has no checkpoint)" in str(planned.problems[0])
    assert "--init-from-initializers" in str(planned.problems[0])
    with pytest.raises(FreezeError):
        planned.check()
    assert plan(source, Recipe(outputs=["proj/Reshape_1"], init_from_initializers=True)).problems == ()


def test_an_output_that_updates_state_is_a_plan_problem(corpus):
    planned = plan(gs.load(corpus / "serving_counter" / "00000123"), Recipe(outputs=["incr_counter_op/AssignAdd"]))
    assert any("updates a variable" in str(p) for p in planned.problems)


def test_variables_carry_their_checkpoint_keys(generated):
    planned = plan(gs.load(generated / "encoder_decoder"), Recipe(inputs=["images_ph"], outputs=["encoder/out"]))
    assert set(planned.variables) == set(planned.checkpoint_keys) and planned.variables
    assert all(key in planned.model.weights for key in planned.checkpoint_keys.values())
    assert planned.variable_bytes() == sum(planned.model.weights[k].nbytes for k in planned.checkpoint_keys.values())
