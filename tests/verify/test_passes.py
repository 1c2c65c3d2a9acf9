"""Correct exports pass plain `graphsurgeon verify OUT/1`, where verify used to fail them or check nothing.

Each case is a seeded fixture (fixtures/verify_cases.py) reproducing what a real model did: scalar inputs
sent as shape [1], image sizes invented too small to convolve, custom objects verify would not take, a
SavedModel cut whose source holds an op the runtime lacks, NaN from TensorFlow's own kernel.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.verify.conftest import flat, outputs_of, report_of


def _invented(report: dict, signature: str = "serving_default") -> dict[str, dict]:
    (sig,) = [s for s in report["signatures"] if s["key"] == signature]
    return {i["key"]: i for i in sig["inputs"]}


def test_scalar_inputs_get_0_d_values_and_0_d_feeds_stay_0_d(cli, cases, exported, tmp_path):
    version = exported(cases / "scalars" / "model.ckpt-1", outputs=["y"])
    result = cli("verify", version, "--json")
    assert result.code == 0, result.out
    invented = _invented(report_of(result))
    assert {k: (i["shape"], i["dtype"]) for k, i in invented.items()} == {
        "scale": ([], "float32"), "steps": ([], "int32"), "use_double": ([], "bool"), "x": ([2, 3], "float32")}
    assert invented["use_double"]["values"] == "booleans"
    np.savez(tmp_path / "scalars.npz", x=np.ones((2, 3), np.float32), use_double=np.array(True),
             scale=np.float32(0.5), steps=np.int32(3))
    fed = cli("verify", version, "--feeds", tmp_path / "scalars.npz")
    assert fed.code == 0, fed.out


@pytest.mark.parametrize("fixture, name, size", [("strided.pb", "images", [2, 19, 19, 3]),
                                                  ("cropped.pb", "signal", [2, 1201])])
def test_unknown_sizes_are_the_smallest_that_fill_every_output(cli, cases, exported, fixture, name, size):
    outputs = ["logits"] if fixture == "strided.pb" else ["y"]
    version = exported(cases / fixture, inputs=[name], outputs=outputs)
    result = cli("verify", version, "--json")
    assert result.code == 0, result.out
    invented = _invented(report_of(result))[name]
    assert invented["shape"] == size
    assert f"other unknown sizes {size[1]}, the smallest for which every output is non-empty" in invented["why"]


CUSTOM = {"keras 2 layer": ("keras/custom_layer.h5", "keras/custom_layer.py"),
          "keras 2 activation": ("verify/keras/activation.h5", "verify/keras/activation.py"),
          "keras 3 layer": ("verify/keras/layer.keras", "verify/keras/layer.py")}


@pytest.mark.parametrize("case", sorted(CUSTOM))
def test_custom_objects_are_given_to_verify_as_to_export(cli, generated, exported, case):
    model, module = (generated / part for part in CUSTOM[case])
    version = exported(model, custom_objects=str(module))
    plain = cli("verify", version)
    assert plain.code == 1
    assert (f"the export was made with --custom-objects {module}; verify never runs code a model directory names, "
            f"so it cannot rebuild the source without them: pass --custom-objects {module} to verify") in flat(plain.out)
    given = cli("verify", version, "--custom-objects", module)
    assert given.code == 0, given.out
    assert "max abs 0" in given.out


def test_a_saved_model_cut_never_loads_the_unregistered_op_outside_it(cli, cases, exported, tmp_path):
    version = exported(cases / "custom_op" / "1", outputs=["y"])
    result = cli("verify", version)
    assert result.code == 0, result.out
    assert "the source its recipe names, replaying the recipe" in flat(result.out)
    np.savez(tmp_path / "x.npz", x=np.arange(6, dtype=np.float32).reshape(2, 3))
    fed = cli("verify", version, "--feeds", tmp_path / "x.npz", "--json")
    assert fed.code == 0 and outputs_of(report_of(fed))["y"]["max_abs_error"] == 0.0


def test_nan_and_inf_from_the_source_own_kernel_are_findings_not_mismatches(cli, cases, exported):
    version = exported(cases / "dequantize.pb", inputs=["x"], outputs=["y"])
    result = cli("verify", version, "--json")
    assert result.code == 0, result.out
    (output,) = outputs_of(report_of(result)).values()
    assert output["ok"] and output["notes"] == [
        "the source itself produces NaN at 2 of 6 elements; the export does the same",
        "the source itself produces Inf at 4 of 6 elements; the export does the same"]


def test_a_cut_at_port_1_maps_through_the_record_not_the_placeholder_name(cli, cases, exported):
    """The Placeholder for split:1 is split_1_input (split_1 is another node): the record says which tensor it is."""
    version = exported(cases / "split_port.pb", inputs=["split:1"], outputs=["y"])
    result = cli("verify", version, "--json")
    assert result.code == 0, result.out
    assert list(_invented(report_of(result))) == ["split_1_input"]
    assert outputs_of(report_of(result))["y"]["max_abs_error"] == 0.0


def test_invented_values_are_those_the_graph_consumes(cli, cases, exported):
    version = exported(cases / "domains.pb", inputs=["ids", "label", "flag"], outputs=["pooled", "onehot", "picked"])
    result = cli("verify", version, "--json")
    assert result.code == 0, result.out
    invented = _invented(report_of(result))
    assert invented["ids"]["values"] == "ids into GatherV2 'GatherV2' over 3 rows: integers in [0, 3)"  # float ids, cast
    assert invented["label"]["values"] == "indices of OneHot 'onehot' of depth 2: integers in [0, 2)"
    assert invented["flag"]["values"] == "booleans"


def test_an_old_graphs_shapeless_placeholder_gets_the_rank_and_size_its_matmul_takes(cli, cases, exported):
    """Before GraphDef version 22, `shape {}` meant any shape: not a scalar. Inference finds rank 2, inner size 3."""
    version = exported(cases / "old_dense.pb", inputs=["x"], outputs=["y"])
    result = cli("verify", version, "--json")
    assert result.code == 0, result.out
    invented = _invented(report_of(result))["x"]
    assert invented["shape"] == [2, 3]
    assert invented["why"].startswith("its rank is unknown everywhere: rank 2, the first the graph's shape inference")


def test_rows_a_reshape_flattens_get_their_rank_and_size_from_it(cli, cases, exported):
    """Placeholders of unknown rank (tf2onnx's frozen graphs) reshaped to [batch, 4, 6]: by a shape built from the
    input's own batch, and by the constant [-1, 4, 6]. At an unknown batch any rank passes inference; at batch 2
    only rows of 24 values do, and each batch verify runs takes them."""
    version = exported(cases / "flattened.pb", outputs=["y"])
    result = cli("verify", version, "--json")
    assert result.code == 0, result.out
    (sig,) = report_of(result)["signatures"]
    assert sig["batches"] == [2, 3]
    for name in ("pixels", "flat"):
        invented = _invented(report_of(result))[name]
        assert invented["shape"] == [2, 24]
        assert "rank 2" in invented["why"] and "other unknown sizes 24" in invented["why"]
