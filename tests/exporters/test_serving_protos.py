"""graphsurgeon's copies of Serving's messages write the bytes and text tensorflow-serving-api would.

The cross-check runs only where tensorflow-serving-api happens to be installed
(graphsurgeon does not depend on it: it pins a recent TensorFlow).
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from google.protobuf import text_format

from graphsurgeon.exporters.serving_files import (ServedModel, batching_parameters_text, model_config_text,
                                                  warmup_records)


@pytest.fixture(scope="module")
def serving_api():
    return pytest.importorskip("tensorflow_serving.apis.prediction_log_pb2"), pytest.importorskip(
        "tensorflow_serving.config.model_server_config_pb2")


def _models() -> list[ServedModel]:
    return [ServedModel("planet", "/models/planet", "latest:2"),
            ServedModel("resnet", "/models/resnet", "specific:1,3", {"stable": 1, "canary": 3}),
            ServedModel("all", "/models/all", "all")]


def test_model_config_text_parses_to_the_same_message_in_the_serving_api(serving_api):
    _, config_pb2 = serving_api
    text = model_config_text(_models())
    real = text_format.Parse(text, config_pb2.ModelServerConfig())
    assert text_format.MessageToString(real) == text
    assert [c.name for c in real.model_config_list.config] == ["planet", "resnet", "all"]
    assert real.model_config_list.config[2].model_version_policy.WhichOneof("policy_choice") == "all"


def test_warmup_records_are_byte_identical_to_the_serving_api(serving_api):
    log_pb2, _ = serving_api
    from graphsurgeon.ir.tensors import to_proto

    request = {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "words": np.array([b"a", b"bc"], dtype=object)}
    [mine] = warmup_records("m", "predict_proba", [request])
    real = log_pb2.PredictionLog()
    real.predict_log.request.model_spec.name = "m"
    real.predict_log.request.model_spec.signature_name = "predict_proba"
    for key, value in sorted(request.items()):
        real.predict_log.request.inputs[key].MergeFromString(to_proto(value).SerializeToString())
    assert mine == real.SerializeToString(deterministic=True)
    assert log_pb2.PredictionLog.FromString(mine) == real


def test_batching_parameters_text_is_what_serving_reads():
    text = batching_parameters_text(max_batch_size=8)
    assert text.startswith("max_batch_size { value: 8 }")


def test_importing_graphsurgeon_does_not_need_the_serving_api():
    code = ("import sys; sys.modules['tensorflow_serving'] = None; "
            "from graphsurgeon.exporters.serving_files import model_config_text, ServedModel; "
            "print(model_config_text([ServedModel('a', '/m')]), end='')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 'name: "a"' in out and "latest {\n        num_versions: 1" in out
