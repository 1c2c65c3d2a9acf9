"""Hostile and broken inputs (issue 13): each is one line on stderr, the right exit code, no traceback,
and nothing new on disk.

Models are tiny GraphDefs written as text here, or the generated fixtures; SavedModels
are exported once per module and copied where a test breaks them.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from graphsurgeon.cli.main import main
from graphsurgeon.errors import UsageError
from graphsurgeon.formats.npz import read_npz

PLACEHOLDER = ('node { name: "X" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } '
               'attr { key: "shape" value { shape { DIMS } } } }\n')
CONST = ('node { name: "W" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } } attr { key: "value" value '
         '{ tensor { dtype: DT_FLOAT tensor_shape { dim { size: SIZE } } float_val: 2.0 } } } }\n')
MUL = 'node { name: "pred" op: "Mul" input: "X" input: "W" attr { key: "T" value { type: DT_FLOAT } } }\n'
IDENTITY = 'node { name: "pred" op: "Identity" input: "X" attr { key: "T" value { type: DT_FLOAT } } }\n'
SMALL = PLACEHOLDER.replace("DIMS", "dim { size: -1 } dim { size: 3 }") + CONST.replace("SIZE", "3") + MUL
HUGE = 2**40


def _pbtxt(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _one_line(result, folder: Path, before: set[str], code: int = 1) -> str:
    """The single stderr line of a failed command that left ``folder`` as it was."""
    assert result.code == code, result.err
    assert "Traceback" not in result.err
    (line,) = result.err.strip().splitlines()
    assert _files(folder) == before, "the command left files behind"
    return line


def _fails(cli, folder: Path, *args) -> str:
    before = _files(folder)
    return _one_line(cli(*args), folder, before)


@pytest.fixture(scope="module")
def exported(generated, tmp_path_factory) -> Path:
    """encoder_decoder as a SavedModel (weights in variables/), to copy and break."""
    base = tmp_path_factory.mktemp("exported") / "enc"
    assert main(["export", str(generated / "encoder_decoder"), "--inputs", "images_ph", "--outputs", "encoder/out",
                 "--inline-limit", "16", "-o", str(base)]) == 0
    return base / "1"


# ---------------------------------------------------------------- tracebacks that became one line

def test_input_dims_beyond_int64(cli, tmp_path):
    model = _pbtxt(tmp_path, "m.pbtxt", SMALL)
    line = _fails(cli, tmp_path, "cut", model, "--inputs", "X=float32[99999999999999999999999]", "--outputs", "pred",
                  "-o", tmp_path / "x.pb")
    assert "99999999999999999999999" in line and "int64" in line


def test_placeholder_without_dtype(cli, tmp_path):
    model = _pbtxt(tmp_path, "m.pbtxt", 'node { name: "X" op: "Placeholder" }\n' + IDENTITY)
    line = _fails(cli, tmp_path, "cut", model, "--inputs", "X", "--outputs", "pred", "-o", tmp_path / "x.pb")
    assert "node 'X' (Placeholder) has no 'dtype' attr" in line


def test_node_with_empty_name(cli, tmp_path):
    model = _pbtxt(tmp_path, "m.pbtxt", SMALL + 'node { name: "" op: "NoOp" }\n')
    line = _fails(cli, tmp_path, "cut", model, "--inputs", "X", "--outputs", "pred", "-o", tmp_path / "x.pb")
    assert "node #3 (op NoOp) has an empty name" in line


def test_pbtxt_nested_20000_levels(cli, tmp_path):
    nested = 'attr { key: "a" value { func { name: "f" ' * 20_000 + "} } } " * 20_000
    text = SMALL.replace('node { name: "X" op: "Placeholder" ', 'node { name: "X" op: "Placeholder" ' + nested, 1)
    model = _pbtxt(tmp_path, "m.pbtxt", text)
    line = _fails(cli, tmp_path, "cut", model, "--inputs", "X", "--outputs", "pred", "-o", tmp_path / "x.pb")
    assert "nests messages too deeply" in line


@pytest.mark.parametrize("module, expected", [
    (None, "no such file"), ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
    ("def f(:\n", "(line 1): SyntaxError"),
])
def test_custom_objects_that_cannot_be_imported(cli, generated, tmp_path, module, expected):
    path = tmp_path / "custom.py"
    if module is not None:
        path.write_text(module)
    line = _fails(cli, tmp_path, "export", generated / "keras" / "custom_layer.h5", "--custom-objects", path,
                  "-o", tmp_path / "out")
    assert f"--custom-objects {path}" in line and expected in line


def test_architecture_with_garbage_json(cli, generated, tmp_path):
    arch = _pbtxt(tmp_path, "arch.json", "{not json")
    line = _fails(cli, tmp_path, "export", generated / "keras" / "planet_weights.h5", "--architecture", arch,
                  "-o", tmp_path / "out")
    assert f"--architecture {arch} is not valid JSON" in line


def test_mean_with_fewer_values_than_channels(cli, generated, tmp_path):
    line = _fails(cli, tmp_path, "export", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs",
                  "encoder/out", "--image-input", "images_ph", "--mean", "1", "2", "-o", tmp_path / "out")
    assert "--mean has 2 values, but --image-input images_ph has 3 channel(s)" in line


def test_saved_model_whose_index_has_no_data(cli, exported, tmp_path):
    broken = tmp_path / "broken"  # not a version number: the C++-load fixture skips it
    shutil.copytree(exported, broken)
    for data in (broken / "variables").glob("variables.data-*"):
        data.unlink()
    line = _fails(cli, tmp_path, "export", broken, "-o", tmp_path / "out")
    assert "variables.data-00000-of-00001 is missing" in line


def test_const_declared_two_to_the_40(cli, tmp_path):
    text = PLACEHOLDER.replace("DIMS", f"dim {{ size: {HUGE} }}") + CONST.replace("SIZE", str(HUGE)) + MUL
    model = _pbtxt(tmp_path, "m.pbtxt", text)
    line = _fails(cli, tmp_path, "export", model, "--inputs", "X", "--outputs", "pred", "-o", tmp_path / "out")
    assert "Const" in line and f"[{HUGE}]" in line and "holds 0 bytes" in line


def test_verify_of_a_two_to_the_40_placeholder(cli, tmp_path):
    model = _pbtxt(tmp_path, "m.pbtxt", PLACEHOLDER.replace("DIMS", f"dim {{ size: {HUGE} }}") + IDENTITY)
    assert cli("export", model, "--inputs", "X", "--outputs", "pred", "-o", tmp_path / "out").code == 0
    line = _fails(cli, tmp_path, "verify", tmp_path / "out" / "1")
    assert "serving_default/X" in line and "too big to generate" in line and "--feeds FILE.npz" in line


def test_verify_of_dtype_enum_999(cli, exported, tmp_path):
    from graphsurgeon.tf.protos import pb

    broken = tmp_path / "broken"  # not a version number: the C++-load fixture skips it
    shutil.copytree(exported, broken)
    proto = broken / "saved_model.pb"
    saved_model = pb.saved_model_pb2.SavedModel.FromString(proto.read_bytes())
    for node in saved_model.meta_graphs[0].graph_def.node:
        if node.op == "Placeholder":
            node.attr["dtype"].type = 999
    proto.write_bytes(saved_model.SerializeToString())
    line = _fails(cli, tmp_path, "verify", broken)
    assert "dtype enum 999 is not a TensorFlow DataType" in line


# ---------------------------------------------------------------- messages that named the wrong thing

def test_unknown_signature_is_named(cli, corpus, tmp_path):
    line = _fails(cli, tmp_path, "export", corpus / "serving_half_plus_two_tf2_cpu" / "00000123", "--signature",
                  "nosuch", "-o", tmp_path / "out")
    assert "no signature 'nosuch'" in line and "serving_default" in line


def test_saved_model_without_variables_directory(cli, exported, tmp_path):
    broken = tmp_path / "broken"  # not a version number: the C++-load fixture skips it
    shutil.copytree(exported, broken)
    shutil.rmtree(broken / "variables")
    line = _fails(cli, tmp_path, "export", broken, "-o", tmp_path / "out")
    assert "has no variables/ directory" in line and "checkpoint prefix" not in line


def test_directory_and_symlink_loop_given_as_model(cli, tmp_path):
    (tmp_path / "x.pb").mkdir()
    os.symlink("loop.pb", tmp_path / "loop.pb")
    line = _fails(cli, tmp_path, "cut", tmp_path / "x.pb", "--outputs", "pred", "-o", tmp_path / "o.pb")
    assert "is a directory, not a .pb file" in line
    line = _fails(cli, tmp_path, "cut", tmp_path / "loop.pb", "--outputs", "pred", "-o", tmp_path / "o.pb")
    assert "symbolic link that loops" in line


def test_cut_to_an_empty_output_path(cli, tmp_path, monkeypatch):
    model = _pbtxt(tmp_path, "m.pbtxt", SMALL)
    monkeypatch.chdir(tmp_path)
    line = _fails(cli, tmp_path, "cut", model, "--inputs", "X", "--outputs", "pred", "-o", "")
    assert "names a directory, not a file" in line and "already exists" not in line


def test_asset_that_is_a_directory(cli, tmp_path):
    model = _pbtxt(tmp_path, "m.pbtxt", SMALL)
    (tmp_path / "vocab").mkdir()
    line = _fails(cli, tmp_path, "export", model, "--inputs", "X", "--outputs", "pred", "--asset", tmp_path / "vocab",
                  "-o", tmp_path / "out")
    assert "is a directory; --asset takes files" in line


@pytest.mark.parametrize("option", [["--version", "abc"], ["--top-k", "abc"]])
def test_bad_option_value_is_one_usage_line(capsys, tmp_path, option):
    with pytest.raises(SystemExit) as caught:
        main(["export", str(tmp_path / "m.pb"), *option, "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert caught.value.code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith(f"graphsurgeon export: error: argument {option[0]}: invalid int value: 'abc'")
    assert line.endswith("see 'graphsurgeon export --help'")


# ---------------------------------------------------------------- questionable values

def test_version_beyond_int64_and_under_another_spelling(cli, tmp_path):
    model = _pbtxt(tmp_path, "m.pbtxt", SMALL)
    base = tmp_path / "serving"
    line = _fails(cli, tmp_path, "export", model, "--inputs", "X", "--outputs", "pred", "--version", str(2**63),
                  "-o", base)
    assert "does not fit in int64" in line
    (base / "007").mkdir(parents=True)
    line = _fails(cli, tmp_path, "export", model, "--inputs", "X", "--outputs", "pred", "--version", "7",
                  "-o", base)
    assert "007 is already version 7 under another spelling" in line


def test_unknown_keys_name(cli, tmp_path):
    model = _pbtxt(tmp_path, "m.pbtxt", SMALL)
    line = _fails(cli, tmp_path, "export", model, "--inputs", "X", "--outputs", "pred", "--keys", "nosuch=k",
                  "-o", tmp_path / "out")
    assert "--keys nosuch=k: 'nosuch' is neither an input nor an output" in line and "name one of: X, pred" in line


def test_set_on_a_tensor_that_is_also_an_input(cli, tmp_path):
    model = _pbtxt(tmp_path, "m.pbtxt", SMALL)
    line = _fails(cli, tmp_path, "cut", model, "--inputs", "X", "--outputs", "pred", "--set", "X=1.0",
                  "-o", tmp_path / "x.pb")
    assert "--set X binds a tensor that is also an input" in line


@pytest.mark.parametrize("value", ["1e999", "nan", "-inf", "[1.0, 1e999]"])
def test_non_finite_set_values(cli, tmp_path, value):
    model = _pbtxt(tmp_path, "m.pbtxt", SMALL)
    line = _fails(cli, tmp_path, "cut", model, "--inputs", "X", "--outputs", "pred", "--set", f"W={value}",
                  "-o", tmp_path / "x.pb")
    assert "not finite" in line or f"{value!r} is not a valid float32 value" in line  # nan, -inf stay text


def test_std_zero(cli, generated, tmp_path):
    line = _fails(cli, tmp_path, "export", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs",
                  "encoder/out", "--image-input", "images_ph", "--std", "0", "-o", tmp_path / "out")
    assert "--std 0.0: a divisor of 0" in line


@pytest.mark.parametrize("args, expected", [
    (["--model", "a=/m/a", "a=/m/b"], "--model names 'a' twice"),
    (["--model", "a=/m/a", "--versions", "a=latest:0"], "'latest:0' for model 'a'"),
    (["--model", "a=/m/a", "--versions", "a=specific:-1"], "'specific:-1' for model 'a'"),
])
def test_serving_config_values(cli, tmp_path, args, expected):
    line = _fails(cli, tmp_path, "serving-config", *args, "-o", tmp_path / "models.config")
    assert expected in line


def test_audit_negative_top(cli, tmp_path):
    model = _pbtxt(tmp_path, "m.pbtxt", SMALL)
    assert "--top -1" in _fails(cli, tmp_path, "audit", model, "--top", "-1")


def test_export_into_the_source_models_own_folder(cli, exported, tmp_path):
    source = tmp_path / "source"
    shutil.copytree(exported, source)
    line = _fails(cli, tmp_path, "export", source, "-o", source)
    assert "is the source model's own folder" in line
    model = _pbtxt(tmp_path, "m.pbtxt", SMALL)
    line = _fails(cli, tmp_path, "export", model, "--inputs", "X", "--outputs", "pred", "-o", tmp_path)
    assert "is the source model's own folder" in line


def test_verify_feeds_that_match_nothing(cli, exported, tmp_path):
    np.savez(tmp_path / "feeds.npz", nosuch=np.zeros((1, 32, 32, 3), np.float32))
    line = _fails(cli, tmp_path, "verify", exported, "--feeds", tmp_path / "feeds.npz")
    assert "nosuch match no signature input" in line and "serving_default/images_ph" in line


def test_npz_is_read_without_unpickling(tmp_path):
    np.savez(tmp_path / "objects.npz", text=np.array(["a", "b"], dtype=object))
    with pytest.raises(UsageError, match="object arrays, which are read only by unpickling"):
        read_npz(str(tmp_path / "objects.npz"), "--inputs")
    np.savez(tmp_path / "strings.npz", text=np.array(["a", "é"]), raw=np.array([b"x"]), n=np.arange(2))
    arrays = read_npz(str(tmp_path / "strings.npz"), "--inputs")
    assert arrays["text"].tolist() == [b"a", "é".encode()] and arrays["raw"].tolist() == [b"x"]
    assert arrays["n"].tolist() == [0, 1]


# A damaged node the cut leaves behind (a dangling input, a dtype enum 999) does not stop it; one the cut keeps does.
DANGLING = 'node { name: "lost" op: "Tanh" input: "gone" attr { key: "T" value { type: DT_FLOAT } } }\n'
BAD_ENUM = 'node { name: "odd" op: "Tanh" input: "X" attr { key: "T" value { type: 999 } } }\n'


@pytest.mark.parametrize("damaged, named", [(DANGLING, "node 'lost' reads from 'gone'"),
                                            (BAD_ENUM, "dtype enum 999 is not a TensorFlow DataType")])
def test_a_damaged_node_stops_only_a_cut_that_keeps_it(cli, tmp_path, damaged, named):
    # no shape attr: the cut infers the input's shape from the nodes upstream of it, and only those
    shapeless = 'node { name: "X" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }\n'
    model = _pbtxt(tmp_path, "m.pbtxt", shapeless + IDENTITY + damaged)
    assert cli("cut", model, "--inputs", "X", "--outputs", "pred", "-o", tmp_path / "ok.pb").code == 0
    assert cli("export", model, "--inputs", "X", "--outputs", "pred", "-o", tmp_path / "s").code == 0
    kept = "lost" if damaged is DANGLING else "odd"
    line = _fails(cli, tmp_path, "cut", model, "--inputs", "X", "--outputs", kept, "-o", tmp_path / "bad.pb")
    assert named in line
    assert named in _fails(cli, tmp_path, "inspect", model)  # inspect looks at every node


# ---------------------------------------------------------------- issue 19: hostile inputs, round 2

# Names TensorFlow's importer refuses or accepts (graph_constructor.cc IsValidNodeName; '>' joins parts).
NODE_NAMES = ["my input", "_x", "-x", "x:y", "a>_b", "a>", "é", "a>b", ".x", "a/b-c_d.e", "0"]


@pytest.mark.parametrize("name", NODE_NAMES)
def test_node_name_rule_is_tensorflows(name):
    """ir.validate's node-name rule agrees with TensorFlow's own importer on each name."""
    from graphsurgeon.ir.graph import Node
    from graphsurgeon.ir.validate import node_problem
    from graphsurgeon.tf import runtime
    from graphsurgeon.tf.protos import pb

    graph_def = pb.graph_pb2.GraphDef()
    node = graph_def.node.add(name=name, op="NoOp")
    try:
        runtime.tf().graph_util.import_graph_def(graph_def, name="")
        tensorflow_accepts = True
    except ValueError as err:
        assert "Node name contains invalid characters" in str(err)
        tensorflow_accepts = False
    accepted = node_problem(Node(node.name, node.op)) is None
    assert accepted == tensorflow_accepts


SPACED = (PLACEHOLDER.replace('"X"', '"my input"').replace("DIMS", "dim { size: -1 } dim { size: 3 }")
          + CONST.replace("SIZE", "3") + MUL.replace('"pred"', '"pred out"').replace('input: "X"', 'input: "my input"'))


@pytest.mark.parametrize("command", ["cut", "export"])
def test_a_node_name_tensorflow_refuses_is_one_line_before_anything_is_written(cli, tmp_path, command):
    model = _pbtxt(tmp_path, "m.pbtxt", SPACED)
    out = tmp_path / ("x.pb" if command == "cut" else "serving")
    line = _fails(cli, tmp_path, command, model, "--inputs", "my input", "--outputs", "pred out", "-o", out)
    assert "node 'my input' (Placeholder) has a name TensorFlow refuses to import" in line


def test_an_export_base_that_is_not_utf8_is_refused_before_any_work(cli, generated, tmp_path):
    base = tmp_path / os.fsdecode(b"\xffbase")
    line = _fails(cli, tmp_path, "export", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs",
                  "encoder/out", "-o", base)
    assert "\\xffbase: the path is not valid UTF-8 (byte 0xff)" in line and "loader process" not in line


@pytest.mark.parametrize("model, layer, missing", [("k2_needs_globals.h5", "scaled", "scale"),
                                                   ("k3_needs_tf.keras", "absolute", "tf")])
def test_unsafe_lambda_whose_code_needs_globals_is_one_line_naming_the_layer(cli, generated, tmp_path, model, layer,
                                                                          missing):
    line = _fails(cli, tmp_path, "export", generated / "keras_code" / model, "--unsafe-lambda",
                  "-o", tmp_path / "out")
    assert f"layer {layer!r}: NameError: name {missing!r} is not defined" in line
    assert f"--replace-layer {layer}=module.py:function" in line


STREAMED = "encoder/fc/w"  # 2048x128 float32: far over the inline limit, so export streams it into variables/


def _with_one_byte_flipped_in(generated, folder: Path, key: str) -> Path:
    """encoder_decoder's checkpoint with one byte in the middle of ``key``'s data flipped (nothing else)."""
    from graphsurgeon.defaults import INLINE_LIMIT
    from graphsurgeon.loaders.bundle import Bundle

    folder.mkdir()
    for path in (generated / "encoder_decoder").glob("model.ckpt-3.*"):
        shutil.copy(path, folder / path.name)
    entry = Bundle(str(folder / "model.ckpt-3")).entries[key]
    assert entry.size > INLINE_LIMIT and not entry.slices  # streamed, not inlined
    data = folder / "model.ckpt-3.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[entry.offset + entry.size // 2] ^= 0x10
    data.write_bytes(bytes(raw))
    return folder / "model.ckpt-3"


@pytest.mark.parametrize("command", [["export"], ["cut", "--format", "saved_model"]])
def test_a_byte_flipped_inside_a_streamed_variable_is_one_line_naming_it(cli, generated, tmp_path, command):
    """The CRC32C checked as Bundle.stream streams the tensor into variables/ is what catches it (no other read
    of encoder/fc/w does): with check_crc=False there, this export would publish the flipped weight."""
    checkpoint = _with_one_byte_flipped_in(generated, tmp_path / "ckpt", STREAMED)
    (tmp_path / "out").mkdir()
    line = _fails(cli, tmp_path, *command, checkpoint, "--inputs", "images_ph", "--outputs", "encoder/out",
                  "-o", tmp_path / "out" / "serving")
    assert f"checkpoint tensor {STREAMED!r}" in line and "fail their CRC32C check" in line


# ---------------------------------------------------------------- classes the fuzz campaign found (tests/fuzz)

def _copy_of(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def test_a_tf2_saved_model_whose_variables_fail_their_checksum(cli, generated, tmp_path):
    model = _copy_of(generated / "tf2" / "multi_signature", tmp_path / "model")
    data = model / "variables" / "variables.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x10
    data.write_bytes(bytes(raw))
    line = _fails(cli, tmp_path, "export", model, "-o", tmp_path / "out")
    assert "could not restore its variables" in line and "Checksum does not match" in line


def _edited_saved_model(generated, tmp_path: Path, edit) -> Path:
    from graphsurgeon.tf.protos import pb

    model = _copy_of(generated / "tf2" / "multi_signature", tmp_path / "model")
    proto = model / "saved_model.pb"
    saved_model = pb.saved_model_pb2.SavedModel.FromString(proto.read_bytes())
    edit(saved_model.meta_graphs[0].graph_def)
    proto.write_bytes(saved_model.SerializeToString())
    return model


def test_a_tf2_signature_output_whose_node_is_gone(cli, generated, tmp_path):
    def rename_the_call(graph_def):
        next(n for n in graph_def.node if n.op == "StatefulPartitionedCall").name = "gone"

    line = _fails(cli, tmp_path, "export", _edited_saved_model(generated, tmp_path, rename_the_call),
                  "-o", tmp_path / "out")
    assert "reads 'StatefulPartitionedCall', which the graph lacks" in line


def test_a_tf2_saved_model_tensorflow_cannot_load(cli, generated, tmp_path):
    def unknown_op(graph_def):
        next(n for n in graph_def.library.function[0].node_def if n.op == "Identity").op = "Id/ntity"

    line = _fails(cli, tmp_path, "export", _edited_saved_model(generated, tmp_path, unknown_op), "-o", tmp_path / "out")
    assert "this TensorFlow does not register" in line and "Id/ntity" in line  # found before TensorFlow loads it


def _edited_partitioned_meta(generated, tmp_path: Path, edit) -> Path:
    from graphsurgeon.tf.protos import pb

    folder = _copy_of(generated / "partitioned_embedding", tmp_path / "model")
    meta = folder / "model.ckpt-1.meta"
    message = pb.meta_graph_pb2.MetaGraphDef.FromString(meta.read_bytes())
    edit(message)
    meta.write_bytes(message.SerializeToString())
    return folder / "model.ckpt-1"


def test_a_partition_outside_its_full_shape(cli, generated, tmp_path):
    from graphsurgeon.tf.protos import pb

    def move_part_1(meta):
        values = meta.collection_def["variables"].bytes_list.value
        index = next(i for i, raw in enumerate(values) if b"part_1" in raw)
        var_def = pb.variable_pb2.VariableDef.FromString(values[index])
        var_def.save_slice_info_def.var_offset[0] = 3999
        values[index] = var_def.SerializeToString()

    line = _fails(cli, tmp_path, "cut", _edited_partitioned_meta(generated, tmp_path, move_part_1), "--inputs", "ids",
                  "--outputs", "scores", "-o", tmp_path / "x.pb")
    assert "variable 'embedding/table/part_1:0' is a part of 'embedding/table' at offset [3999, 0]" in line
    assert "does not lie inside its full shape [4000, 32]" in line


def test_a_restore_op_without_inputs(cli, generated, tmp_path):
    def drop_restore_inputs(meta):
        del next(n for n in meta.graph_def.node if n.op == "RestoreV2").input[:]

    line = _fails(cli, tmp_path, "inspect", _edited_partitioned_meta(generated, tmp_path, drop_restore_inputs))
    assert "(RestoreV2) has 0 data input(s), but its op takes 3" in line


def test_a_keras_archive_whose_members_lie_before_its_start(cli, generated, tmp_path):
    """The end record's central-directory offset raised by 4096: zipfile still finds the directory (it infers
    where the archive starts), but every member's offset becomes negative and its seek an OSError, which
    escaped as a traceback when the fuzzer found it."""
    raw = bytearray((generated / "keras3" / "cnn.keras").read_bytes())
    end = raw.rfind(b"PK\x05\x06")
    offset = int.from_bytes(raw[end + 16:end + 20], "little")
    raw[end + 16:end + 20] = (offset + 4096).to_bytes(4, "little")
    archive = tmp_path / "m.keras"
    archive.write_bytes(bytes(raw))
    line = _fails(cli, tmp_path, "inspect", archive)
    assert "m.keras is a damaged zip archive (config.json): OSError" in line
