"""TensorFlow Serving's deployment files: model_config_file, warmup requests, batching parameters.

Each is built and checked with copies of Serving's own messages (serving_protos.py),
so graphsurgeon does not depend on tensorflow-serving-api and the TensorFlow it pins.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import google_crc32c
import numpy as np
from google.protobuf import text_format
from google.protobuf.message import DecodeError

from graphsurgeon.errors import LoadError, UsageError
from graphsurgeon.exporters.serving_protos import message_class
from graphsurgeon.formats.bundle import masked_crc
from graphsurgeon.ir import tensors

MAX_WARMUP_RECORDS = 1000  # Serving reads at most this many


@dataclass(frozen=True)
class ServedModel:
    """One model of a model_config_file: where its versions are and which of them to serve."""

    name: str
    base_path: str
    policy: str = "latest:1"  # "latest:N", "all", or "specific:V1,V2"
    labels: Mapping[str, int] = field(default_factory=dict)  # e.g. {"stable": 1, "canary": 2}


def model_config_text(models: Sequence[ServedModel]) -> str:
    config = message_class("ModelServerConfig")()
    for model in models:
        entry = config.model_config_list.config.add(name=model.name, base_path=model.base_path,
                                                    model_platform="tensorflow")
        _policy(entry.model_version_policy, model.policy, model.name)
        for label, version in sorted(model.labels.items()):
            entry.version_labels[label] = version
    text = text_format.MessageToString(config)
    text_format.Parse(text, message_class("ModelServerConfig")())  # what Serving will do with it
    return text


def _policy(policy: Any, spec: str, name: str) -> None:
    kind, _, arg = spec.partition(":")
    try:
        if kind == "latest":
            policy.latest.num_versions = int(arg or 1)
            if policy.latest.num_versions < 1:
                raise ValueError("latest:0 serves nothing")  # and Serving writes it as latest {}
        elif kind == "all" and not arg:
            policy.all.SetInParent()
        elif kind == "specific":
            policy.specific.versions.extend(int(v) for v in arg.split(","))
            if any(v < 0 for v in policy.specific.versions):
                raise ValueError("negative version")
        else:
            raise ValueError(kind)
    except ValueError as err:
        raise UsageError(f"version policy {spec!r} for model {name!r}: use latest:N (N >= 1), all or "
                         "specific:V1,V2 (versions >= 0)") from err


def warmup_records(model_name: str, signature: str, requests: Iterable[Mapping[str, np.ndarray]]) -> list[bytes]:
    """PredictionLog records (serialized), one per request, at most MAX_WARMUP_RECORDS."""
    records: list[bytes] = []
    for request in requests:
        if len(records) == MAX_WARMUP_RECORDS:
            break
        log = message_class("PredictionLog")()
        predict = log.predict_log.request
        predict.model_spec.name = model_name
        predict.model_spec.signature_name = signature
        for key, value in sorted(request.items()):
            # TensorFlow's TensorProto class is not the pool's: copy by bytes.
            predict.inputs[key].MergeFromString(tensors.to_proto(value).SerializeToString())
        records.append(log.SerializeToString(deterministic=True))  # map entries sorted: same bytes each run
    return records


def write_tfrecord(path: Path, records: Iterable[bytes]) -> None:
    """TFRecord framing: length, its masked CRC32C, the data, its masked CRC32C."""
    with open(path, "wb") as f:
        for record in records:
            length = struct.pack("<Q", len(record))
            f.write(length + struct.pack("<I", masked_crc(google_crc32c.value(length))))
            f.write(record + struct.pack("<I", masked_crc(google_crc32c.value(record))))


def read_tfrecord(path: Path) -> list[bytes]:
    """The records of a TFRecord file, each framing CRC checked; LoadError naming the record if damaged."""
    data, pos, records = path.read_bytes(), 0, list[bytes]()
    while pos < len(data):
        if pos + 12 > len(data):
            raise LoadError(f"{path}: record {len(records)} is truncated; write the file again")
        length_bytes, (length_crc,) = data[pos:pos + 8], struct.unpack_from("<I", data, pos + 8)
        (length,) = struct.unpack("<Q", length_bytes)
        record, end = data[pos + 12:pos + 12 + length], pos + 16 + length
        if length_crc != masked_crc(google_crc32c.value(length_bytes)) or end > len(data) or \
                struct.unpack_from("<I", data, end - 4)[0] != masked_crc(google_crc32c.value(record)):
            raise LoadError(f"{path}: record {len(records)} is damaged (truncated or CRC mismatch); "
                            "write the file again")
        records.append(record)
        pos = end
    return records


def warmup_requests(path: Path) -> list:
    """The PredictRequests in a warmup file, parsed as Serving parses them."""
    log = message_class("PredictionLog")
    requests = []
    for i, record in enumerate(read_tfrecord(path)):
        try:
            requests.append(log.FromString(record).predict_log.request)
        except DecodeError as err:
            raise LoadError(f"{path}: record {i} is not a PredictionLog ({err}); write the file again") from err
    return requests


def batching_parameters_text(max_batch_size: int = 32, batch_timeout_micros: int = 2000, num_batch_threads: int = 2,
                             max_enqueued_batches: int = 100) -> str:
    text = "".join(f"{name} {{ value: {value} }}\n" for name, value in (
        ("max_batch_size", max_batch_size), ("batch_timeout_micros", batch_timeout_micros),
        ("max_enqueued_batches", max_enqueued_batches), ("num_batch_threads", num_batch_threads)))
    text_format.Parse(text, _batching_parameters_class()())
    return text


def _batching_parameters_class() -> Any:
    return message_class("BatchingParameters")
