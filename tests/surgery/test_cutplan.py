"""plan_cut and plan(): names resolved and the cut validated before anything is frozen (tiny graphs, no TensorFlow)."""
from __future__ import annotations

import time

import pytest

from graphsurgeon.errors import CutError, NameNotFoundError, UsageError
from graphsurgeon.ir.resolve import Resolver
from graphsurgeon.names import TensorRef
from graphsurgeon.plan import plan
from graphsurgeon.recipe import Recipe
from graphsurgeon.surgery.cutplan import plan_cut as plan_resolved_cut
from graphsurgeon.surgery.select import InputSpec
from tests.surgery.test_frames import loop_nodes
from tests.tiny import INT32, attr, chain, const, extract, model, op, placeholder


def plan_cut(source, inputs, outputs):
    """plan_cut over names, resolved as plan() resolves them."""
    names = Resolver(source)
    return plan_resolved_cut(source, [InputSpec(n) for n in inputs], [names.tensor(n, "input") for n in inputs],
                             names.all(outputs, "output"))


def two_inputs():
    """
        a (Placeholder) --> add (AddV2) --> out (Tanh)
        b (Placeholder) -----^
    """
    return model(placeholder("a"), placeholder("b"), op("add", "AddV2", ["a", "b"]), op("out", "Tanh", ["add"]))


def test_an_unfed_placeholder_is_a_problem_with_a_path():
    planned = plan_cut(two_inputs(), ["a"], ["out"])
    (problem,) = planned.problems
    assert isinstance(problem, CutError)
    assert "Placeholder 'b', which is not among the inputs (path: out <- add <- b)" in str(problem)
    assert "add it to --inputs" in str(problem)
    with pytest.raises(CutError, match="path: out <- add <- b"):
        planned.check()


def test_a_separating_cut_has_no_problems():
    planned = plan_cut(two_inputs(), ["a", "b"], ["out"])
    assert planned.problems == () and planned.kept == {"add", "out"}
    assert [(i.ref, i.placeholder) for i in planned.inputs] == [(TensorRef("a"), "a"), (TensorRef("b"), "b")]


def test_no_inputs_means_the_graph_s_own_placeholders():
    planned = plan_cut(two_inputs(), [], ["out"])
    assert [i.ref for i in planned.inputs] == [TensorRef("a"), TensorRef("b")] and planned.problems == ()


def test_a_cut_needs_an_output():
    with pytest.raises(CutError, match="a cut needs at least one output"):
        plan_cut(two_inputs(), ["a"], [])


@pytest.mark.parametrize("inputs, outputs, kind, name", [
    (["x"], ["body"], "output", "body"), (["body"], ["y"], "input", "body")])
def test_a_boundary_inside_a_loop_frame_is_a_problem(inputs, outputs, kind, name):
    #   x -> [ while loop "loop": enter, merge, sw, body, next, exit ] -> y
    loop = model(placeholder("x"), *loop_nodes(), op("y", "Identity", ["exit"]))
    problems = plan_cut(loop, inputs, outputs).problems
    assert any(f"cannot cut at {kind} {name}:0: node {name!r} (Tanh) runs inside while loop frame 'loop'" in str(p)
               for p in problems), problems
    assert plan_cut(loop, ["x"], ["y"]).problems == ()  # around the loop is fine


def test_a_cut_at_port_1_of_a_multi_output_node():
    #   dim --+
    #   x ----+-> s (Split, 2 outputs) -:0-> left (Tanh)
    #                                  -:1-> right (Tanh) --> out (Identity)
    source = model(placeholder("x"), const("dim", 0, INT32), op("s", "Split", ["dim", "x"], num_split=attr(i=2)),
                   op("left", "Tanh", ["s"]), op("right", "Tanh", ["s:1"]), op("out", "Identity", ["right"]))
    planned = plan_cut(source, ["s:1"], ["out"])
    assert planned.problems == () and planned.kept == {"right", "out"}
    assert planned.inputs[0].placeholder == "s_1"  # s itself may still exist upstream
    # dtype and shape given, so no shape inference (which imports TensorFlow) runs
    result = extract(source, [InputSpec("s:1", "float32", (-1,))], ["out"], strip=False)
    assert [(n.name, n.op) for n in result.graph] == [("s_1", "Placeholder"), ("right", "Tanh"), ("out", "Identity")]
    assert result.graph["right"].inputs == (TensorRef("s_1"),)


def test_a_10000_node_chain_is_planned_without_recursion_or_quadratic_steps():
    source = model(placeholder("x"), *chain(10_000))
    started = time.perf_counter()
    planned = plan_cut(source, ["x"], ["n10000"])
    assert time.perf_counter() - started < 2.0  # linear: ~20 ms on an idle machine
    assert len(planned.kept) == 10_000 and planned.problems == ()
    assert planned.reach.path_to("n1")[:2] == ["n10000", "n9999"]


def test_a_diamond_is_kept_once():
    #        +-> l --+
    #   x ---+       +--> add --> out
    #        +-> r --+
    source = model(placeholder("x"), op("l", "Tanh", ["x"]), op("r", "Neg", ["x"]),
                   op("add", "AddV2", ["l", "r"]), op("out", "Identity", ["add"]))
    planned = plan_cut(source, ["x"], ["out"])
    assert planned.kept == {"l", "r", "add", "out"} and planned.problems == ()
    assert planned.reach.used_inputs == {TensorRef("x")}


# ---------------------------------------------------------------- plan(model, recipe)

def test_plan_keeps_the_cut_problem_for_audit_and_check_raises_it():
    planned = plan(two_inputs(), Recipe(inputs=["a"], outputs=["out"]))
    assert [str(p) for p in planned.problems] == [str(plan_cut(two_inputs(), ["a"], ["out"]).problems[0])]
    with pytest.raises(CutError, match="Placeholder 'b'"):
        planned.check()


def test_plan_binding_an_input_is_a_usage_error():
    with pytest.raises(UsageError, match="--set a binds a tensor that is also an input"):
        plan(two_inputs(), Recipe(inputs=["a"], outputs=["out"], bindings={"a": 1.0}))


def test_plan_binding_a_placeholder_feeds_it():
    planned = plan(two_inputs(), Recipe(inputs=["a"], outputs=["out"], bindings={"b": 2.0}))
    assert planned.problems == () and planned.model.graph["b"].op == "Const"
    assert planned.source.graph["b"].op == "Placeholder"  # the source as loaded is untouched


@pytest.mark.parametrize("recipe, message", [
    (Recipe(inputs=["a"], outputs=["otu"]), "output 'otu' is not in the graph; did you mean: out (node)"),
    (Recipe(inputs=["a"], outputs=["ouy:0"]), "output 'ouy:0' is not in the graph; did you mean: out:0 (tensor)"),
    (Recipe(inputs=["aa"], outputs=["out"]), "input 'aa' is not in the graph; did you mean: a (node)"),
    (Recipe(inputs=["a"], outputs=["out:1"]), "node 'out' (Tanh) has 1 output(s); did you mean: out:0 (tensor)"),
    (Recipe(inputs=["a"], outputs=["out"], bindings={"c": 1.0}), "--set name 'c' is not in the graph"),
    (Recipe(inputs=["a"], outputs=["zzz"]), "run 'graphsurgeon inspect MODEL --all' to list candidate inputs"),
])
def test_plan_unknown_names_say_what_is_close(recipe, message):
    with pytest.raises(NameNotFoundError) as err:
        plan(two_inputs(), recipe)
    assert message in str(err.value)


def test_plan_suggests_the_full_name_of_a_last_scope_component():
    source = model(placeholder("x"), op("encoder/dense/out", "Tanh", ["x"]))
    with pytest.raises(NameNotFoundError, match=r"did you mean: encoder/dense/out \(node\)"):
        plan(source, Recipe(outputs=["out"]))
