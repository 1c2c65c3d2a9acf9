"""verify catches real defects, each reproduced by a seeded fixture (fixtures/verify_cases.py).

Each export here is correct for its own source; the defect is a source that differs (a changed
weight, NaN), a graph that pins what its signature frees, dropout left on, an output that is
empty, or a signature whose inputs were swapped after the export.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

import graphsurgeon as gs
from graphsurgeon.exporters.graphdef import write_graph_def
from graphsurgeon.tf.protos import pb
from tests.tiny import INT32, attr, const, model, op, placeholder
from tests.verify.conftest import flat, outputs_of, report_of

EXACT = 2.0 ** -10  # the fixture moves one table element by exactly this much


def test_a_weight_feeding_only_the_second_output_fails_that_output_alone(cli, cases, exported):
    version = exported(cases / "two_outputs" / "model.ckpt-1", inputs=["x"], outputs=["a", "b", "table"])
    assert cli("verify", version).code == 0
    result = cli("verify", version, "--against", cases / "two_outputs" / "w2_changed" / "model.ckpt-1", "--json")
    report = report_of(result)
    assert result.code == 1 and not report["ok"]
    outputs = outputs_of(report)
    assert sorted(outputs) == ["a", "b", "table"]  # one entry per output
    assert [k for k, o in outputs.items() if not o["ok"]] == ["b"]  # b is second in sorted order
    assert 5e-4 < outputs["b"]["max_abs_error"] < 2e-3 and "differs from the source" in outputs["b"]["problem"]


def test_one_element_off_by_1e_3_fails_under_the_default_tolerance(cli, cases, exported):
    version = exported(cases / "two_outputs" / "model.ckpt-1", inputs=["x"], outputs=["a", "b", "table"])
    result = cli("verify", version, "--against", cases / "two_outputs" / "table_one_off" / "model.ckpt-1")
    assert result.code == 1
    assert "FAIL serving_default/table" in result.out and "differs from the source at 1 of 12 elements" in flat(result.out)


def test_a_difference_exactly_at_the_tolerance_passes_and_just_over_it_fails(cli, cases, exported):
    version = exported(cases / "two_outputs" / "model.ckpt-1", inputs=["x"], outputs=["a", "b", "table"])
    against = cases / "two_outputs" / "table_at_tolerance" / "model.ckpt-1"
    at = cli("verify", version, "--against", against, "--atol", f"table={EXACT!r}", "--rtol", "table=0", "--json")
    assert at.code == 0, at.out
    assert outputs_of(report_of(at))["table"]["max_abs_error"] == EXACT
    under = cli("verify", version, "--against", against, "--atol", f"table={EXACT * 0.999!r}", "--rtol", "table=0")
    assert under.code == 1 and "FAIL serving_default/table" in under.out


def _relaxed_in_name_only(version: Path, work: Path) -> Path:
    """A copy of ``version`` whose input x takes any batch in its Placeholder and signature, while the graph's
    Reshape constant still holds batch 6: what an exporter that relaxes only the input leaves behind (a CTC
    model's Reshape held 300)."""
    copy = work / "relaxed" / "1"
    shutil.copytree(version, copy)
    path = copy / "saved_model.pb"
    saved = pb.saved_model_pb2.SavedModel.FromString(path.read_bytes())
    meta = saved.meta_graphs[0]
    (placeholder,) = [n for n in meta.graph_def.node if n.name == "x"]
    for shape in (placeholder.attr["shape"].shape, meta.signature_def["serving_default"].inputs["x"].tensor_shape):
        shape.dim[0].size = -1
    path.write_bytes(saved.SerializeToString())
    return copy


def test_a_batch_the_graph_pins_fails_naming_the_reshape_that_holds_it(cli, cases, exported, tmp_path):
    version = exported(cases / "pinned_batch" / "model.ckpt-1", inputs=["x"], outputs=["y"])
    assert cli("verify", version).code == 0  # the signature says 6, and so does the graph
    result = cli("verify", _relaxed_in_name_only(version, tmp_path), "--json")
    report = report_of(result)
    (sig,) = report["signatures"]
    assert result.code == 1 and sig["batch_pinned"] and not sig["ok"]
    assert "batch 2 fails while batch 6 runs, although the signature accepts any batch" in sig["note"]
    assert "(at Reshape 'pin', whose constant holds [6, 2, 2])" in sig["note"]
    assert sig["outputs"][0]["ok"]  # compared at the batch the graph takes


def test_the_retry_at_another_batch_keeps_the_users_feeds(cli, tmp_path):
    """x [6,5] is invented, scale is fed: the retry at batch 6 invents x again and keeps the fed scale.

        x ──► Mul ◄── scale          Reshape(Mul, [6, 5]) ──► y
    """
    nodes = [placeholder("x", (6, 5)), placeholder("scale", (1,)), op("scaled", "Mul", ["x", "scale"]),
             const("rows", np.int32([6, 5]), INT32), op("y", "Reshape", ["scaled", "rows"], Tshape=attr(type=INT32))]
    write_graph_def(model(*nodes), tmp_path / "scaled.pb")
    version = gs.export(tmp_path / "scaled.pb", gs.Recipe(inputs=["x", "scale"], outputs=["y"]), tmp_path / "out").path
    np.savez(tmp_path / "scale.npz", scale=np.float32([2.0]))
    result = cli("verify", _relaxed_in_name_only(version, tmp_path), "--feeds", tmp_path / "scale.npz", "--json")
    (sig,) = report_of(result)["signatures"]
    assert result.code == 1 and sig["batch_pinned"] and "batch 2 fails while batch 6 runs" in sig["note"]
    assert [i["key"] for i in sig["inputs"]] == ["x"]  # scale was given, at both batches


def test_a_stochastic_export_fails_naming_its_random_op_and_the_switch_left_on(cli, cases, exported):
    left_on = exported(cases / "dropout.pb", outputs=["y"])
    result = cli("verify", left_on)
    assert result.code == 1
    text = flat(result.out)
    assert "FAIL serving_default: the export is stochastic: two runs on the same inputs differ" in text
    assert "RandomUniform 'drop/dropout/random_uniform/RandomUniform'" in text
    assert "PlaceholderWithDefault 'training' defaults to True and turns them on: export with --set training=false" in text
    switched_off = exported(cases / "dropout.pb", outputs=["y"], bindings={"training": False})
    assert cli("verify", switched_off).code == 0


def test_an_export_that_samples_on_purpose_passes_with_a_note(cli, cases, exported):
    """--stochastic at export is recorded; verify then loads and runs both sides, and says it could not compare."""
    sampling = exported(cases / "dropout.pb", outputs=["y"], stochastic=True)
    result = cli("verify", sampling)
    assert result.code == 0, result.out
    assert "not compared with the source: the recipe says the model samples on purpose (--stochastic)" in flat(
        result.out)


def test_an_empty_output_fails_with_the_ways_out(cli, cases, exported, tmp_path):
    version = exported(cases / "empty.pb", inputs=["x"], outputs=["big"])
    result = cli("verify", version)
    assert result.code == 1
    assert ("it has zero elements (shape [0]), so it checks nothing: pass --feeds FILE.npz with inputs that fill it, "
            "or --allow-empty big if it is truly empty") in flat(result.out)
    assert cli("verify", version, "--allow-empty", "big").code == 0
    np.savez(tmp_path / "big.npz", x=np.full((2, 4), 3.0, np.float32))
    filled = cli("verify", version, "--feeds", tmp_path / "big.npz", "--json")
    assert filled.code == 0 and outputs_of(report_of(filled))["big"]["shape"] == [8]


def test_swapped_inputs_of_the_same_shape_fail(cli, cases, exported, tmp_path):
    version = exported(cases / "swapped" / "1")
    assert cli("verify", version).code == 0
    swapped = tmp_path / "swapped" / "1"
    shutil.copytree(version, swapped)
    path = swapped / "saved_model.pb"
    saved = pb.saved_model_pb2.SavedModel.FromString(path.read_bytes())
    inputs = saved.meta_graphs[0].signature_def["serving_default"].inputs
    inputs["a"].name, inputs["b"].name = inputs["b"].name, inputs["a"].name  # what an exporter bug would write
    path.write_bytes(saved.SerializeToString())
    result = cli("verify", swapped)
    assert result.code == 1 and "FAIL serving_default/y" in result.out
    assert "differs from the source at 6 of 6 elements" in flat(result.out)


def test_nan_only_in_the_export_fails(cli, cases, exported):
    version = exported(cases / "log_nan" / "nan" / "model.ckpt-1", inputs=["x"], outputs=["y"])
    result = cli("verify", version, "--against", cases / "log_nan" / "model.ckpt-1", "--json")
    (output,) = outputs_of(report_of(result)).values()
    assert result.code == 1 and not output["ok"]
    assert output["problem"] == "NaN in the export at 2 of 6 elements where the source gives numbers"


def test_a_signature_that_cannot_run_fails_with_the_way_out(cli, tmp_path):
    model = tmp_path / "complex.pbtxt"
    model.write_text('node { name: "z" op: "Placeholder" attr { key: "dtype" value { type: DT_COMPLEX64 } } '
                     'attr { key: "shape" value { shape { dim { size: -1 } } } } }\n'
                     'node { name: "r" op: "Real" input: "z" attr { key: "T" value { type: DT_COMPLEX64 } } '
                     'attr { key: "Tout" value { type: DT_FLOAT } } }\n')
    assert cli("export", model, "--inputs", "z", "--outputs", "r", "-o", tmp_path / "out").code == 0
    result = cli("verify", tmp_path / "out" / "1")
    assert result.code == 1
    assert ("FAIL serving_default: input 'z' (complex64) cannot be invented; pass it in --feeds FILE.npz under the "
            "key 'serving_default/z'") in flat(result.out)
    np.savez(tmp_path / "z.npz", z=np.array([1 + 2j, 3 - 1j], np.complex64))
    assert cli("verify", tmp_path / "out" / "1", "--feeds", tmp_path / "z.npz").code == 0
