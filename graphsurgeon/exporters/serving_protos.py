"""The few TensorFlow Serving messages graphsurgeon writes, defined here from their descriptors.

tensorflow-serving-api would give them, but each of its releases pins a recent
TensorFlow (2.21 needs TF >= 2.20), so depending on it changed the user's
TensorFlow on install. These are proto3 copies, field for field (numbers, types,
full names), of the messages in tensorflow_serving/config/model_server_config.proto,
config/file_system_storage_path_source.proto, apis/model.proto, apis/predict.proto,
apis/prediction_log.proto and servables/tensorflow/session_bundle_config.proto;
only the fields graphsurgeon sets are declared (a parser skips the others).
They live in a private descriptor pool, so the real package can still be
imported beside them; tests/exporters/test_serving_protos.py compares bytes with it.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, wrappers_pb2

from graphsurgeon.tf.protos import pb

F = descriptor_pb2.FieldDescriptorProto
PACKAGE = "tensorflow.serving"
TENSOR_PROTO = ".tensorflow.TensorProto"
INT64_VALUE = ".google.protobuf.Int64Value"
POLICY = f".{PACKAGE}.FileSystemStoragePathSourceConfig.ServableVersionPolicy"

# (name, number, type, message type or None, repeated, oneof index or None)
Field = tuple[str, int, int, "str | None", bool, "int | None"]

MESSAGES: dict[str, list[Field]] = {
    # config/model_server_config.proto
    "ModelServerConfig": [("model_config_list", 1, F.TYPE_MESSAGE, f".{PACKAGE}.ModelConfigList", False, 0)],
    "ModelConfigList": [("config", 1, F.TYPE_MESSAGE, f".{PACKAGE}.ModelConfig", True, None)],
    "ModelConfig": [("name", 1, F.TYPE_STRING, None, False, None),
                    ("base_path", 2, F.TYPE_STRING, None, False, None),
                    ("model_platform", 4, F.TYPE_STRING, None, False, None),
                    ("model_version_policy", 7, F.TYPE_MESSAGE, POLICY, False, None),
                    ("version_labels", 8, F.TYPE_MESSAGE, f".{PACKAGE}.ModelConfig.VersionLabelsEntry", True, None)],
    # config/file_system_storage_path_source.proto
    "FileSystemStoragePathSourceConfig": [],
    # apis/model.proto
    "ModelSpec": [("name", 1, F.TYPE_STRING, None, False, None),
                  ("version", 2, F.TYPE_MESSAGE, INT64_VALUE, False, 0),
                  ("signature_name", 3, F.TYPE_STRING, None, False, None),
                  ("version_label", 4, F.TYPE_STRING, None, False, 0)],
    # apis/predict.proto
    "PredictRequest": [("model_spec", 1, F.TYPE_MESSAGE, f".{PACKAGE}.ModelSpec", False, None),
                       ("inputs", 2, F.TYPE_MESSAGE, f".{PACKAGE}.PredictRequest.InputsEntry", True, None),
                       ("output_filter", 3, F.TYPE_STRING, None, True, None)],
    # apis/prediction_log.proto
    "PredictLog": [("request", 1, F.TYPE_MESSAGE, f".{PACKAGE}.PredictRequest", False, None)],
    "PredictionLog": [("predict_log", 6, F.TYPE_MESSAGE, f".{PACKAGE}.PredictLog", False, 0)],
    # servables/tensorflow/session_bundle_config.proto (its int fields are Int64Value)
    "BatchingParameters": [(name, number, F.TYPE_MESSAGE, INT64_VALUE, False, None) for number, name in enumerate(
        ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches", "num_batch_threads"), start=1)],
}
ONEOFS = {"ModelServerConfig": ["config"], "ModelSpec": ["version_choice"], "PredictionLog": ["log_type"],
          "ServableVersionPolicy": ["policy_choice"]}
MAP_ENTRIES = {"ModelConfig": ("VersionLabelsEntry", F.TYPE_INT64, None),
               "PredictRequest": ("InputsEntry", F.TYPE_MESSAGE, TENSOR_PROTO)}
# FileSystemStoragePathSourceConfig.ServableVersionPolicy and its three choices
POLICY_CHOICES: list[Field] = [("latest", 100, F.TYPE_MESSAGE, f"{POLICY}.Latest", False, 0),
                               ("all", 101, F.TYPE_MESSAGE, f"{POLICY}.All", False, 0),
                               ("specific", 102, F.TYPE_MESSAGE, f"{POLICY}.Specific", False, 0)]
POLICY_NESTED: dict[str, list[Field]] = {"Latest": [("num_versions", 1, F.TYPE_UINT32, None, False, None)],
                                         "All": [],
                                         "Specific": [("versions", 1, F.TYPE_INT64, None, True, None)]}


def _add_fields(message: Any, fields: Iterable[Field]) -> None:
    for name, number, kind, type_name, repeated, oneof in fields:
        field = message.field.add(name=name, number=number, type=kind,
                                  label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL)
        if type_name is not None:
            field.type_name = type_name
        if oneof is not None:
            field.oneof_index = oneof


def _add_map_entry(message: Any, entry: str, value_type: int, value_message: str | None) -> None:
    nested = message.nested_type.add(name=entry)
    nested.options.map_entry = True
    _add_fields(nested, [("key", 1, F.TYPE_STRING, None, False, None),
                         ("value", 2, value_type, value_message, False, None)])


def _file_proto() -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto(
        name="graphsurgeon/tensorflow_serving_subset.proto", package=PACKAGE, syntax="proto3",
        dependency=["google/protobuf/wrappers.proto", pb.tensor_pb2.DESCRIPTOR.name])
    for name, fields in MESSAGES.items():
        message = proto.message_type.add(name=name)
        for oneof in ONEOFS.get(name, []):
            message.oneof_decl.add(name=oneof)
        _add_fields(message, fields)
        if name in MAP_ENTRIES:
            _add_map_entry(message, *MAP_ENTRIES[name])
        if name == "FileSystemStoragePathSourceConfig":
            policy = message.nested_type.add(name="ServableVersionPolicy")
            policy.oneof_decl.add(name="policy_choice")
            for nested_name, nested_fields in POLICY_NESTED.items():
                _add_fields(policy.nested_type.add(name=nested_name), nested_fields)
            _add_fields(policy, POLICY_CHOICES)
    return proto


def _add_with_dependencies(pool: descriptor_pool.DescriptorPool, file: Any, added: set[str]) -> None:
    """Add ``file`` (a FileDescriptor) after the files it imports, each once."""
    stack = [(file, False)]
    while stack:
        current, ready = stack.pop()
        if current.name in added:
            continue
        if ready:
            pool.AddSerializedFile(current.serialized_pb)
            added.add(current.name)
            continue
        stack.append((current, True))
        stack.extend((dep, False) for dep in reversed(current.dependencies))


@functools.lru_cache(maxsize=None)
def _pool() -> descriptor_pool.DescriptorPool:
    pool, added = descriptor_pool.DescriptorPool(), set[str]()
    _add_with_dependencies(pool, wrappers_pb2.DESCRIPTOR, added)
    _add_with_dependencies(pool, pb.tensor_pb2.DESCRIPTOR, added)
    pool.Add(_file_proto())
    return pool


def message_class(name: str) -> Any:
    """The generated class of ``tensorflow.serving.NAME`` (e.g. "ModelServerConfig", "PredictionLog")."""
    return message_factory.GetMessageClass(_pool().FindMessageTypeByName(f"{PACKAGE}.{name}"))
