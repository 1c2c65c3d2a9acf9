"""A bounded fuzz run in the suite (about 30-60 s): mutated seed models never end in anything but a
GraphSurgeonError, and never hang. The long campaign is tests/fuzz/campaign.py (see README.md)."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphsurgeon.tf import runtime
from tests.fuzz.harness import apply_bytes, apply_proto, byte_mutations, proto_mutations, run_case, seeds

# Cases per seed, sized so the whole run stays near 30-60 s on 2 shared cores; a Keras case traces the model.
EXAMPLES = {"frozen_pb": 100, "cond_meta": 80, "ckpt_index": 60, "keras_h5": 15, "keras3_h5": 10, "keras3_archive": 10,
            "tf2_saved_model": 4, "tf2_variables": 6, "partitioned_index": 30, "partitioned_meta": 30}


@pytest.mark.fuzz
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_mutated_models_fail_only_with_graphsurgeon_errors(generated, name):
    runtime.tf()  # imported before any case: a per-case alarm must never interrupt the import itself
    (seed,) = [s for s in seeds(generated) if s.name == name]
    original = seed.files[seed.mutated].read_bytes()

    @settings(max_examples=EXAMPLES[name], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def case(data):
        if seed.proto is not None and data.draw(st.booleans(), label="proto edit"):
            mutated = apply_proto(original, seed.proto, data.draw(proto_mutations(), label="edits"))
        else:
            mutated = apply_bytes(original, data.draw(byte_mutations(len(original)), label="bytes"))
        outcome = run_case(seed, mutated)
        assert outcome.kind in ("ok", "refused"), f"{seed.name}: {outcome.kind}: {outcome.detail}"

    case()


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.sampled_from(["class_name", "config", "name", "layers", "module",
                                                       "registered_name", "function", "function_type", "inbound_nodes",
                                                       "input_layers", "output_layers", "cell", "x"]), children,
                                      max_size=5),
                    max_leaves=30)


@pytest.mark.fuzz
@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(JSON)
def test_any_json_config_is_scanned_or_refused_cleanly(config):
    """keras.safety and the metadata layer view take any JSON a file could hold: a refusal or nothing."""
    from graphsurgeon.loaders.keras.h5 import _layer_graph
    from graphsurgeon.loaders.keras.safety import UnsafeKerasConfigError, check_config

    try:
        check_config(config, "m.h5", allow_code=False)
    except UnsafeKerasConfigError:
        pass

    _layer_graph(json.dumps(config), {})  # the model_config attribute as the HDF5 reader gives it


@pytest.mark.fuzz
def test_every_seed_runs_clean_unmutated(generated):
    """A seed the pipeline refuses as it is would make every case of it a refusal: the fuzzing would test nothing."""
    runtime.tf()
    outcomes = {seed.name: run_case(seed, seed.files[seed.mutated].read_bytes()) for seed in seeds(generated)}
    assert set(outcomes) == set(EXAMPLES)
    assert {name: o for name, o in outcomes.items() if o.kind != "ok"} == {}
