"""inspect and audit of TF2 SavedModels read the protos alone: signatures, object graph, variable index.

TensorFlow is not imported (it takes seconds), so each run is a fresh
interpreter that reports whether `tensorflow` ever got into sys.modules.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import graphsurgeon as gs
from graphsurgeon.audit.summary import summarize

REPO = Path(__file__).resolve().parents[2]
TF2_MODELS = ["serving_half_plus_two_tf2_cpu/00000123", "rust_regression_savedmodel_tf2", "tfx_tft_tf2_savedmodel",
              "tfx_keras_serving", "tfnet_keras_lstm_sequential", "tfnet_leak_testmodel"]
RUN = """
import sys, time
from graphsurgeon.cli.main import main
start = time.perf_counter()
code = main(sys.argv[1:])
print(f"{time.perf_counter() - start:.3f} {int('tensorflow' in sys.modules)} {code}", file=sys.stderr)
"""


def _run_fresh(*args: str) -> tuple[float, bool, int]:
    """(seconds in graphsurgeon, whether tensorflow was imported, exit code) of a fresh `graphsurgeon ARGS`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, env=env, timeout=300)
    seconds, imported, code = done.stderr.strip().splitlines()[-1].split()
    return float(seconds), imported == "1", int(code)


@pytest.mark.parametrize("command", ["inspect", "audit"])
@pytest.mark.parametrize("name", TF2_MODELS)
def test_tf2_saved_models_are_read_without_tensorflow(corpus, command, name):
    seconds, imported, code = _run_fresh(command, str(corpus / name), "--json")
    print(f"{command} {name}: {seconds:.2f} s in graphsurgeon")
    assert code == 0
    assert not imported, f"{command} {name} imported tensorflow"


def test_a_snappy_compressed_variable_index_is_read_without_tensorflow(corpus):
    """TF 2.14's half_plus_two index has snappy-compressed blocks; they were TensorFlow's reader's job."""
    seconds, imported, code = _run_fresh("inspect", str(corpus / "serving_half_plus_two_tf2_cpu" / "00000123"))
    assert code == 0 and not imported
    model = gs.load(corpus / "serving_half_plus_two_tf2_cpu" / "00000123", trace=False)
    assert {k: w.nbytes for k, w in model.weights.items() if k[0] in "abc"} == {
        "a/.ATTRIBUTES/VARIABLE_VALUE": 4, "b/.ATTRIBUTES/VARIABLE_VALUE": 4, "c/.ATTRIBUTES/VARIABLE_VALUE": 4}


def test_inspect_lists_every_signature_as_saved_model_cli_does(corpus, cli):
    summary = summarize(gs.load(corpus / "serving_half_plus_two_tf2_cpu" / "00000123", trace=False))
    first = summary.signatures[0]
    assert (first.key, first.method) == ("serving_default", "tensorflow/serving/predict")
    assert [(t.key, t.dtype, t.shape) for t in first.inputs] == [("x", "float32", [1])]
    assert [(t.key, t.dtype, t.shape) for t in first.outputs] == [("y", "float32", [1])]
    assert [s.key for s in summary.signatures[1:]] == sorted(s.key for s in summary.signatures[1:])
    assert {s.key for s in summary.signatures} == {"serving_default", "classify_x_to_y", "classify_x2_to_y3",
                                                   "regress_x_to_y", "regress_x_to_y2", "regress_x2_to_y3"}
    assert summary.outputs == []  # not StatefulPartitionedCall_5: the signatures are what export keeps
    out = cli("inspect", corpus / "serving_half_plus_two_tf2_cpu" / "00000123").out
    assert "StatefulPartitionedCall_5," not in out and "serving_default" in out
    assert out.index("serving_default") < out.index("classify_x2_to_y3")
    data = json.loads(cli("inspect", corpus / "serving_half_plus_two_tf2_cpu" / "00000123", "--json").out)
    assert data["signatures"][0]["inputs"] == [{"key": "x", "dtype": "float32", "shape": [1],
                                                "tensor": "serving_default_x:0"}]


def test_sparse_signature_inputs_are_listed_with_their_three_tensors(corpus):
    summary = summarize(gs.load(corpus / "tfx_transform_fn", trace=False))
    tensors = [t for s in summary.signatures for t in s.inputs]
    assert any(t.tensor.startswith("sparse: ") and t.tensor.count(",") == 2 for t in tensors)
