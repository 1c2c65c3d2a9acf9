"""inspect and audit read a Keras file's layer graph from its config: the names export uses, no Keras."""
from __future__ import annotations

import json

import graphsurgeon as gs
from tests.audit.schema import audit_json


def test_metadata_names_are_the_names_export_uses(generated):
    model = gs.load(generated / "keras" / "planet.h5", trace=False)
    assert [r.node for r in model.inputs] == ["input_image"]
    assert [r.node for r in model.outputs] == ["weather", "ground"]
    assert model.graph["input_image"].op == "Placeholder"


def test_inspect_lists_the_keras_inputs_and_outputs(cli, generated):
    data = json.loads(cli("inspect", generated / "keras" / "planet.h5", "--json").out)
    assert [i["name"] for i in data["inputs"]] == ["input_image"]
    assert {"weather", "ground"} <= set(data["outputs"])


def test_audit_outputs_accepts_a_keras_output_layer(cli, generated):
    path = generated / "keras" / "planet.h5"
    whole = audit_json(cli("audit", path, "--json").out)
    weather = audit_json(cli("audit", path, "--outputs", "weather", "--json").out)
    assert weather["model"]["outputs"] == ["weather:0"]
    assert 0 < weather["kept"]["bytes"]["variables"] < whole["kept"]["bytes"]["variables"]
    assert not [r for r in weather["risks"] if r["kind"] == "training nodes"]


def test_a_shared_nested_tower_is_one_layer(corpus, cli):
    path = corpus / "k2_pnnl_siamese_lambda" / "siamese.h5"
    model = gs.load(path, trace=False)
    assert [r.node for r in model.inputs] == ["input_1", "input_2"] and [r.node for r in model.outputs] == ["dense_1"]
    tower = audit_json(cli("audit", path, "--outputs", "sequential", "--json").out)
    tower_bytes = sum(w.nbytes for name, w in model.weights.items() if name.startswith("sequential/"))
    assert tower["kept"]["bytes"]["variables"] == tower_bytes
