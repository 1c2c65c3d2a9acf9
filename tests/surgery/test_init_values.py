"""Variables without a checkpoint value: restore-on-init (TF-Hub), constant vs random initializers, string --set."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import graphsurgeon as gs
from graphsurgeon import errors, surgery
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.surgery.init_values import is_constant_initializer
from graphsurgeon.surgery.initializers import initial_value_or_none
from graphsurgeon.surgery.select import parse_binding
from tests.tiny import extract

X = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)


@pytest.fixture(scope="module")
def hub(generated):
    return generated / "hub_module"


def test_without_the_module_checkpoint_one_line_names_the_file_and_the_flags(hub, cli):
    result = cli("export", hub / "hub_graph.meta", "--inputs", "x", "--outputs", "embedding", "-o", "unused")
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1
    assert ("variable 'module/dense/kernel' is restored at init from checkpoint "
            "'./tfhub_modules/1f0c5d3a/variables/variables'") in result.err
    assert "--weights PREFIX_OR_DIR" in result.err and "--init-from-initializers" in result.err


def test_weights_points_at_where_the_module_checkpoint_is_now(hub, tmp_path, cli):
    source = gs.load(hub / "hub_graph.meta", weights=hub / "module_variables")
    model = extract(source, ["x"], ["embedding"])
    reader = tf.train.load_checkpoint(str(hub / "module_variables" / "variables"))
    np.testing.assert_array_equal(model.weights.read("module/dense/kernel"), reader.get_tensor("module/dense/kernel"))
    weights = hub / "module_variables"
    result = cli("export", hub / "hub_graph.meta", "--inputs", "x", "--outputs", "embedding", "--weights", weights,
                 "-o", tmp_path / "hub")
    assert result.code == 0, result.err
    np.savez(tmp_path / "x.npz", x=X)
    result = cli("verify", tmp_path / "hub" / "1", "--feeds", tmp_path / "x.npz", "--against", hub / "hub_graph.meta",
                 "--weights", weights)
    assert result.code == 0 and "verified" in result.out, result.out


def test_init_from_initializers_uses_the_original_initializer_not_the_restore(hub, tmp_path):
    source = gs.load(hub / "hub_graph.meta")
    initial = initial_value_or_none(source, "module/dense/kernel")
    assert source.graph.source(initial).node.startswith("module/dense/kernel/Initializer/")
    model = extract(source, ["x"], ["embedding"], init_from_initializers=True)
    np.testing.assert_array_equal(model.weights.read("module/dense/bias"), np.zeros(4, np.float32))
    version = export_saved_model(model, tmp_path / "hub")
    report = gs.verify(version, feeds={"x": X}, against=hub / "hub_graph.meta")  # the same seeded initializers
    assert report.ok, report


def test_constant_and_random_initializers_are_told_apart(generated, hub):
    meta = gs.load(generated / "latent_search_meta" / "latent_search.meta")
    assert is_constant_initializer(meta, "temperature")
    assert not is_constant_initializer(gs.load(hub / "hub_graph.meta"), "module/dense/kernel")  # random_uniform


def test_random_initializer_without_a_value_still_needs_the_flag(corpus):
    with pytest.raises(errors.FreezeError, match="random or reads state.*--init-from-initializers"):
        extract(gs.load(corpus / "tfnet_meta_lstm_crf_ner" / "lstm_crf_ner.meta"), [], ["proj/Reshape_1"])


def test_set_binds_text_to_a_string_tensor(generated, tmp_path, cli):
    data = generated / "latent_search_meta" / "data"
    path = str(data / "latents.bin")
    result = cli("freeze", generated / "latent_search_meta" / "latent_search.meta", "--outputs", "scores",
                 "--set", f"latents_asset_path/read={path}", "-o", tmp_path / "s.pb")
    assert result.code == 0, result.err
    frozen = gs.load(tmp_path / "s.pb")
    (bound,) = [n for n in frozen.graph if n.op == "Const" and n.attrs["dtype"].type == 7]
    # the file the bound path names, read by ReadFile, is embedded: the .pb needs no file at run time
    assert bound.attrs["value"].tensor.string_val == [(data / "latents.bin").read_bytes()]
    name, value = parse_binding("latents_asset_path/read=some text")  # as the shell passes --set name='some text'
    assert parse_binding("latents_asset_path/read='some text'")[1] == value  # quoted, it is the same text
    model = surgery.bind(gs.load(generated / "latent_search_meta" / "latent_search.meta"), {name: value})
    assert any(n.op == "Const" and n.attrs["value"].tensor.string_val == [b"some text"] for n in model.graph)


def test_set_refuses_text_for_a_number(generated, cli, tmp_path):
    result = cli("freeze", generated / "bn_dropout", "--outputs", "logits", "--set", "keep_prob=some text",
                 "-o", tmp_path / "b.pb")
    assert result.code == 1 and "'some text' is not a valid float32 value" in result.err
