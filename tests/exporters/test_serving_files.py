"""Serving deployment files: model_config_file, warmup requests, batching parameters, request examples."""
from __future__ import annotations

import numpy as np
from google.protobuf import text_format

import graphsurgeon as gs
from graphsurgeon.exporters.serving_files import _batching_parameters_class, read_tfrecord
from graphsurgeon.exporters.serving_protos import message_class


def test_model_config_for_two_models_parses_with_serving_protos(cli, tmp_path):
    result = cli("serving-config", "--model", "planet=/models/planet", "resnet=/models/resnet", "--versions",
                 "planet=latest:2", "resnet=specific:1,3", "--label", "resnet:stable=1", "resnet:canary=3",
                 "-o", tmp_path / "models.config", "--batching", tmp_path / "batching.config")
    assert result.code == 0, result.err
    config = text_format.Parse((tmp_path / "models.config").read_text(), message_class("ModelServerConfig")())
    planet, resnet = config.model_config_list.config
    assert (planet.name, planet.base_path, planet.model_version_policy.latest.num_versions) == ("planet", "/models/planet", 2)
    assert list(resnet.model_version_policy.specific.versions) == [1, 3]
    assert dict(resnet.version_labels) == {"stable": 1, "canary": 3}
    batching = text_format.Parse((tmp_path / "batching.config").read_text(), _batching_parameters_class()())
    assert batching.max_batch_size.value == 32
    again = cli("serving-config", "--model", "a=/m", "-o", tmp_path / "models.config")
    assert again.code == 1 and "--force" in again.err
    bad = cli("serving-config", "--model", "a=/m", "--versions", "a=newest", "-o", tmp_path / "x.config")
    assert bad.code == 1 and "use latest:N" in bad.err and "all or specific" in bad.err and not (tmp_path / "x.config").exists()


def test_warmup_file_is_valid_and_runs_through_verify(generated, tmp_path, cli):
    np.savez(tmp_path / "samples.npz", images_ph=np.random.default_rng(0).random((3, 32, 32, 3), dtype=np.float32))
    result = cli("export", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out",
                 "--warmup", tmp_path / "samples.npz", "-o", tmp_path / "enc")
    assert result.code == 0, result.err
    assert "curl -d" in result.out and "v1/models/enc:predict" in result.out and "PredictRequest" in result.out
    warmup = tmp_path / "enc" / "1" / "assets.extra" / "tf_serving_warmup_requests"
    logs = [message_class("PredictionLog").FromString(r) for r in read_tfrecord(warmup)]
    assert len(logs) == 3 and logs[0].predict_log.request.model_spec.signature_name == "serving_default"
    assert [d.size for d in logs[0].predict_log.request.inputs["images_ph"].tensor_shape.dim] == [1, 32, 32, 3]
    report = gs.verify(tmp_path / "enc" / "1")
    finding = next(f for f in report.findings if f.check == "warmup requests")
    assert report.ok and finding.ok and finding.message.startswith("3 request(s)")
