"""Nothing TensorFlow cannot load is published: each bad graph ends in one line, exit 1, nothing on disk.

Every graph is built in code, small:

    x (Placeholder float32[?,2]) --> mul (Mul, * w) --> out (Identity)

and then broken one way per test.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests import graphs


def _base():
    g = graphs.new()
    graphs.placeholder(g, "x", [None, 2])
    graphs.const(g, "w", np.array([2.0, 3.0]))
    graphs.binary(g, "mul", "Mul", "x", "w")
    graphs.unary(g, "out", "Identity", "mul")
    return g


def _one_line(result, *fragments):
    assert result.code == 1, (result.out, result.err)
    (line,) = result.err.strip().splitlines()
    assert line.startswith("error: ") and "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in line, line
    return line


def _export(cli, tmp_path, graph_def, *extra, outputs=("out",), inputs=("x",)):
    model = graphs.save(graph_def, tmp_path / "model.pb")
    base = tmp_path / "out" / "serving"
    base.parent.mkdir()
    result = cli("export", model, "--inputs", *inputs, "--outputs", *outputs, "-o", base, *extra)
    return result, tmp_path / "out"


def test_the_base_graph_exports(cli, tmp_path):
    result, out = _export(cli, tmp_path, _base())
    assert result.code == 0, result.err
    assert (out / "serving" / "1" / "saved_model.pb").is_file()


def test_output_equal_to_an_input_is_refused(cli, tmp_path):
    result, out = _export(cli, tmp_path, _base(), outputs=("x",))
    _one_line(result, "both fed and fetched", "x:0")
    assert list(out.iterdir()) == []


def test_a_cycle_is_refused(cli, tmp_path):
    g = _base()
    graphs.binary(g, "a", "Add", "out", "b")
    graphs.binary(g, "b", "Add", "a", "x")
    result, out = _export(cli, tmp_path, g, outputs=("b",))
    _one_line(result, "cycle")
    assert list(out.iterdir()) == []


def test_a_node_reading_its_own_output_is_refused(cli, tmp_path):
    g = _base()
    graphs.binary(g, "loop", "Add", "loop", "out")
    result, out = _export(cli, tmp_path, g, outputs=("loop",))
    _one_line(result, "'loop'")
    assert list(out.iterdir()) == []


def test_const_content_smaller_than_its_shape_is_refused(cli, tmp_path):
    g = _base()
    w = next(n for n in g.node if n.name == "w")
    w.attr["value"].tensor.tensor_shape.dim[0].size = 4  # 8 bytes of content for 4 float32s
    result, out = _export(cli, tmp_path, g)
    _one_line(result, "Const 'w'", "8 bytes", "needs 16")
    assert list(out.iterdir()) == []


def test_an_op_unknown_to_tensorflow_is_refused(cli, tmp_path):
    g = _base()
    next(n for n in g.node if n.name == "out").op = "NoSuchOpAnywhere"
    result, out = _export(cli, tmp_path, g)
    _one_line(result, "NoSuchOpAnywhere")
    assert list(out.iterdir()) == []


def test_dtype_enum_999_is_refused(cli, tmp_path):
    g = _base()
    next(n for n in g.node if n.name == "out").attr["T"].type = 999
    result, out = _export(cli, tmp_path, g)
    _one_line(result, "999")
    assert list(out.iterdir()) == []


def test_warmup_keys_not_the_signatures_are_refused(cli, tmp_path):
    np.savez(tmp_path / "warm.npz", images=np.zeros((2, 2), np.float32))
    result, out = _export(cli, tmp_path, _base(), "--warmup", tmp_path / "warm.npz")
    _one_line(result, "--warmup", "images", "'x'")
    assert list(out.iterdir()) == []


def test_warmup_dtype_not_the_signatures_is_refused(cli, tmp_path):
    np.savez(tmp_path / "warm.npz", x=np.zeros((2, 2), np.int32))
    result, out = _export(cli, tmp_path, _base(), "--warmup", tmp_path / "warm.npz")
    _one_line(result, "--warmup", "int32", "float32")
    assert list(out.iterdir()) == []


def test_cut_with_a_string_input_feeding_mul_is_refused(cli, tmp_path):
    model = graphs.save(_base(), tmp_path / "model.pb")
    (tmp_path / "out").mkdir()
    result = cli("cut", model, "--inputs", "x=string[?]", "--outputs", "out", "-o", tmp_path / "out" / "cut.pb")
    _one_line(result, "Mul 'mul'", "string", "float32")
    assert list((tmp_path / "out").iterdir()) == []


def test_two_nodes_with_the_same_name_are_refused_at_load(cli, tmp_path):
    g = _base()
    graphs.unary(g, "out", "Neg", "mul")
    model = graphs.save(g, tmp_path / "model.pb")
    (tmp_path / "out").mkdir()
    result = cli("cut", model, "--inputs", "x", "--outputs", "out", "-o", tmp_path / "out" / "cut.pb")
    _one_line(result, "'out'", "used twice")
    assert list((tmp_path / "out").iterdir()) == []


def test_no_load_check_still_checks_structure(tmp_path):
    """--no-load-check skips only TensorFlow's loader; the structural checks always run."""
    from graphsurgeon import load
    from graphsurgeon.errors import UnloadableOutputError
    from graphsurgeon.exporters.saved_model import export_saved_model

    g = _base()
    next(n for n in g.node if n.name == "out").op = "NoSuchOpAnywhere"
    model = load(graphs.save(g, tmp_path / "model.pb"))
    with pytest.raises(UnloadableOutputError):
        export_saved_model(model, tmp_path / "serving", load_check=False)
    assert not (tmp_path / "serving").exists()


def _shape_mismatch():
    """Structurally fine, but TensorFlow's importer infers shapes: [?,2] * [3] cannot broadcast."""
    g = graphs.new()
    graphs.placeholder(g, "x", [None, 2])
    graphs.const(g, "w", np.array([2.0, 3.0, 4.0]))
    graphs.binary(g, "mul", "Mul", "x", "w")
    graphs.unary(g, "out", "Identity", "mul")
    return g


def test_the_cpp_loader_check_refuses_what_structure_cannot_see(tmp_path, tmp_path_factory):
    from graphsurgeon import load
    from graphsurgeon.errors import UnloadableOutputError
    from graphsurgeon.exporters.saved_model import export_saved_model

    model = load(graphs.save(_shape_mismatch(), tmp_path / "model.pb"))
    with pytest.raises(UnloadableOutputError) as caught:
        export_saved_model(model, tmp_path / "serving")
    message = str(caught.value)
    assert "C++ loader refuses it" in message and "mul" in message and "--no-load-check" in message
    assert "\n" not in message and not (tmp_path / "serving").exists()
    # load_check=False publishes it (outside tmp_path: the autouse C++ load would refuse it too).
    elsewhere = tmp_path_factory.mktemp("unchecked") / "serving"
    assert (export_saved_model(model, elsewhere, load_check=False) / "saved_model.pb").is_file()
