"""Seed 004: tables and files read through asset-path variables, under a racy group(...) init.

TensorFlow's own recipe (SavedModelBuilder with legacy_init_op=group(...)) fails
in the C++ loader with "Attempting to use uninitialized value index_asset_path"
(tensorflow/serving#1437); graphsurgeon's ordered init loads every time. The
seed's first version (latent_search_meta: a .meta alone, path variables made with
collections=[] and assigned by a hand-run group) exports without any flag.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon import surgery
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.verify.cpp_loader import CppLoaderError, Run, run_in_cpp_loader
from tests.tiny import extract

LOADS = 100


@pytest.fixture(scope="module")
def latents(generated):
    return np.fromfile(generated / "latent_search" / "data" / "latents.bin", np.float32).reshape(-1, 8)


@pytest.fixture(scope="module")
def exported(generated, tmp_path_factory):
    model = extract(gs.load(generated / "latent_search"), ["query"], ["best_index", "filename"])
    return export_saved_model(model, tmp_path_factory.mktemp("serve") / "latent",
                              asset_dir=str(generated / "latent_search" / "data"))


@pytest.fixture(scope="module")
def exported_meta_only(generated, tmp_path_factory):
    """Exported as its author would: no checkpoint, no --init-from-initializers."""
    source = generated / "latent_search_meta"
    model = extract(gs.load(source / "latent_search.meta"), ["query"], ["best_index", "filename"])
    return export_saved_model(model, tmp_path_factory.mktemp("serve") / "latent_meta", asset_dir=str(source / "data"))


def _load_and_ask(path, latents):
    try:
        [[index, names]] = run_in_cpp_loader(path, ["serve"], [Run({"query:0": latents[[3, 7, 11]] * 5},
                                                                  ["best_index:0", "filename:0"])])
    except CppLoaderError as err:
        return str(err)
    return index.tolist(), [n.decode() for n in names]


def test_export_has_one_staged_init_op_and_no_old_paths(exported):
    model = gs.load(exported)
    table_init = next(n for n in model.graph if n.op == "InitializeTableFromTextFileV2")
    assert table_init.inputs[1] == gs.TensorRef("filenames_path")  # the asset tensor the loader feeds
    assert "graphsurgeon_init/asset_paths_done" in table_init.control_inputs
    assert sorted(p.name for p in (exported / "assets").iterdir()) == ["filenames.txt", "latents.bin"]


def test_meta_only_first_version_is_staged_and_answers(exported_meta_only, latents, generated, caplog):
    model = gs.load(exported_meta_only)
    done = model.graph["graphsurgeon_init/asset_paths_done"]
    assert "assign_latents_path" in done.control_inputs  # the author's assign, from the hand-run group
    table_init = next(n for n in model.graph if n.op == "InitializeTableFromTextFileV2")
    assert table_init.inputs[1] == gs.TensorRef("filenames_path")
    assert _load_and_ask(exported_meta_only, latents) == ([3, 7, 11], ["img_003.jpg", "img_007.jpg", "img_011.jpg"])


def test_meta_only_constant_variable_is_taken_with_a_notice(generated, caplog):
    source = gs.load(generated / "latent_search_meta" / "latent_search.meta")
    assert {"assign_latents_path", "assign_index_path"} <= set(source.init_ops)
    assert not any(op.endswith("/Assign") for op in source.init_ops)  # variables' own initializers are not init ops
    with caplog.at_level("WARNING"):
        frozen = surgery.freeze(source, ["scores"])
    assert "take their constant initial values (temperature)" in caplog.text
    assert frozen.weights.read("temperature") == 2.0


@pytest.mark.slow
def test_meta_only_export_verifies_against_the_meta(exported_meta_only, generated):
    source = generated / "latent_search_meta"
    report = gs.verify(exported_meta_only, against=source / "latent_search.meta", asset_dir=str(source / "data"))
    assert report.ok, report


@pytest.mark.slow
@pytest.mark.parametrize("which", ["exported", "exported_meta_only"])
def test_graphsurgeon_export_answers_in_every_fresh_cpp_loader(which, request, latents):
    exported = request.getfixturevalue(which)
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: _load_and_ask(exported, latents), range(LOADS)))
    expected = ([3, 7, 11], ["img_003.jpg", "img_007.jpg", "img_011.jpg"])
    assert answers.count(expected) == LOADS, [a for a in answers if a != expected][:3]


def test_tensorflow_recipe_races_in_the_cpp_loader(generated, latents):
    answers = [_load_and_ask(generated / "latent_search" / "article_export" / "1", latents) for _ in range(5)]
    failures = [a for a in answers if isinstance(a, str)]
    print(f"SavedModelBuilder + legacy_init_op=group(...): {len(failures)} of {len(answers)} loads failed")
    assert failures and "Attempting to use uninitialized value" in failures[0]
