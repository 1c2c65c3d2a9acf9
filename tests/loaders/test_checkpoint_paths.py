"""Every way users hand over a TF1 checkpoint, and the ways it goes wrong."""
from __future__ import annotations

import shutil

import pytest

import graphsurgeon as gs
from graphsurgeon import errors
from graphsurgeon.exporters.saved_model import export_saved_model
from tests.tiny import extract


@pytest.fixture
def ckpt_dir(generated, tmp_path):
    """A private copy of the bn_dropout model_dir (model.ckpt-3.*, checkpoint)."""
    target = tmp_path / "model_dir"
    shutil.copytree(generated / "bn_dropout", target)
    return target


def _assert_loaded(model):
    assert model.source.format == "checkpoint"
    assert "fc1/w" in model.weights and model.weights["fc1/w"].shape == (16, 32)
    assert "logits" in model.graph


@pytest.mark.parametrize("suffix", ["model.ckpt-3", "model.ckpt-3.meta", "model.ckpt-3.index", "."])
def test_prefix_meta_index_and_model_dir(ckpt_dir, suffix):
    _assert_loaded(gs.load(ckpt_dir / suffix))


def test_model_dir_takes_latest_checkpoint(ckpt_dir):
    for ext in (".meta", ".index", ".data-00000-of-00001"):
        shutil.copy(ckpt_dir / f"model.ckpt-3{ext}", ckpt_dir / f"model.ckpt-10{ext}")
    (ckpt_dir / "checkpoint").unlink()
    assert gs.load(ckpt_dir).source.checkpoint.endswith("model.ckpt-10")


def test_state_file_from_another_machine_falls_back_to_local_files(ckpt_dir):
    (ckpt_dir / "checkpoint").write_text(
        'model_checkpoint_path: "/home/someone/experiments/run7/model.ckpt-3"\n'
        'all_model_checkpoint_paths: "/home/someone/experiments/run7/model.ckpt-3"\n'
    )
    model = gs.load(ckpt_dir)
    _assert_loaded(model)
    assert model.source.checkpoint == str(ckpt_dir / "model.ckpt-3")


def test_prefix_with_empty_basename(ckpt_dir, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    for ext in (".meta", ".index", ".data-00000-of-00001"):
        shutil.copy(ckpt_dir / f"model.ckpt-3{ext}", bare / ext)
    _assert_loaded(gs.load(bare))
    _assert_loaded(gs.load(bare / ".meta"))


def test_v1_checkpoint_and_legacy_meta(corpus):
    model = gs.load(corpus / "serving_session_bundle_half_plus_two" / "00000123" / "export.meta")
    assert model.source.checkpoint.endswith("export-?????-of-00001")
    assert model.meta_info.tensorflow_version == "0.12.head"
    assert {k: model.weights[k].shape for k in model.weights} == {"a": (), "b": ()}


def test_meta_without_weights_loads(corpus):
    model = gs.load(corpus / "tfnet_meta_lstm_crf_ner" / "lstm_crf_ner.meta")
    assert model.source.format == "metagraph" and len(model.weights) == 0 and len(model.graph) == 3337


def test_index_without_data_is_one_clear_error(ckpt_dir):
    (ckpt_dir / "model.ckpt-3.data-00000-of-00001").unlink()
    with pytest.raises(errors.LoadError, match=r"model.ckpt-3.index has no data files.*copy the .data-\* files"):
        gs.load(ckpt_dir / "model.ckpt-3")


def test_missing_path(tmp_path):
    with pytest.raises(errors.LoadError, match="no such file or directory"):
        gs.load(tmp_path / "nothing-here")


def test_truncated_pb(corpus, tmp_path):
    data = (corpus / "tf2onnx_ae0" / "frozen.pb").read_bytes()
    for cut_at in (len(data) // 2, 100):
        (tmp_path / "t.pb").write_bytes(data[:cut_at])
        with pytest.raises(errors.LoadError, match="truncated"):
            gs.load(tmp_path / "t.pb")


def test_inconsistent_output_shapes_are_not_written(corpus):
    model = gs.load(corpus / "tfnet_meta_kmeans" / "kmeans.meta")
    graph_def = gs.ir.proto.to_graph_def(model.graph, model.weights)
    assert any("_output_shapes" in n.attrs for n in model.graph)
    assert not any("_output_shapes" in n.attr for n in graph_def.node)


def _trailing_slash_copy(generated, tmp_path):
    target = tmp_path / "run"
    shutil.copytree(generated / "trailing_slash", target)
    return target


def _assert_trailing_slash_loaded(model, directory):
    assert model.source.checkpoint == str(directory) + "/"
    assert model.weights["w"].shape == (3, 2) and "y" in model.graph


def test_state_file_whose_path_ends_in_a_slash_from_another_machine(generated, tmp_path):
    directory = _trailing_slash_copy(generated, tmp_path)
    assert 'model_checkpoint_path: "/home/carol/run/"' in (directory / "checkpoint").read_text()
    _assert_trailing_slash_loaded(gs.load(directory), directory)
    _assert_trailing_slash_loaded(gs.load(str(directory) + "/"), directory)  # "pass the prefix directly"


@pytest.mark.parametrize("named", ["{here}/", ".", "C:\\\\Users\\\\carol\\\\run\\\\", "run/"])
def test_state_file_forms_that_name_this_directory(generated, tmp_path, named):
    directory = _trailing_slash_copy(generated, tmp_path)
    (directory / "checkpoint").write_text(f'model_checkpoint_path: "{named.format(here=directory)}"\n')
    _assert_trailing_slash_loaded(gs.load(directory), directory)


def test_directory_of_empty_basename_files_without_a_state_file(generated, tmp_path):
    directory = _trailing_slash_copy(generated, tmp_path)
    (directory / "checkpoint").unlink()
    _assert_trailing_slash_loaded(gs.load(directory), directory)


def test_windows_state_file_from_another_machine(ckpt_dir):
    (ckpt_dir / "checkpoint").write_text('model_checkpoint_path: "D:\\\\runs\\\\bn\\\\model.ckpt-3"\n')
    _assert_loaded(gs.load(ckpt_dir))


def test_trailing_slash_checkpoint_exports_and_verifies(generated, tmp_path):
    directory = _trailing_slash_copy(generated, tmp_path)
    version = export_saved_model(extract(gs.load(directory), ["x"], ["y"]), tmp_path / "serve")
    report = gs.verify(version, against=directory)
    assert report.ok, report
