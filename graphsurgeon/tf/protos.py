"""TensorFlow's generated proto modules, loaded without importing tensorflow.

tensorflow/__init__ takes seconds and half a gigabyte; the *_pb2 modules need
none of it (they import only each other and google.protobuf). While they load,
empty parent packages pointing at the wheel's folders stand in for the real
ones; they are removed right after, so a later `import tensorflow` (ours in
runtime.py, or the user's) runs the real package and reuses the loaded modules.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

# Module name -> package, for the protos graphsurgeon reads and writes.
TENSORFLOW_PROTOS = {
    "attr_value_pb2": "tensorflow.core.framework", "function_pb2": "tensorflow.core.framework",
    "graph_pb2": "tensorflow.core.framework", "node_def_pb2": "tensorflow.core.framework",
    "op_def_pb2": "tensorflow.core.framework", "tensor_pb2": "tensorflow.core.framework",
    "tensor_shape_pb2": "tensorflow.core.framework", "types_pb2": "tensorflow.core.framework",
    "variable_pb2": "tensorflow.core.framework", "versions_pb2": "tensorflow.core.framework",
    "meta_graph_pb2": "tensorflow.core.protobuf", "saved_model_pb2": "tensorflow.core.protobuf",
    "saver_pb2": "tensorflow.core.protobuf", "tensor_bundle_pb2": "tensorflow.core.protobuf",
    "checkpoint_state_pb2": "tensorflow.python.training",
    "example_pb2": "tensorflow.core.example", "feature_pb2": "tensorflow.core.example",  # verify's tf.Examples
}
STUB_PACKAGES = ("tensorflow", "tensorflow.core", "tensorflow.core.framework", "tensorflow.core.protobuf",
                 "tensorflow.core.example", "tensorflow.python", "tensorflow.python.training")


def is_stub(module: object) -> bool:
    return getattr(module, "__graphsurgeon_stub__", False)


def _import_quietly(modules: Mapping[str, str]) -> dict[str, ModuleType]:
    """Import ``modules`` (name -> package) behind package stubs, unless tensorflow is already imported."""
    stubbed = "tensorflow" not in sys.modules
    if stubbed:
        _install_package_stubs()
    try:
        return {name: importlib.import_module(f"{package}.{name}") for name, package in modules.items()}
    finally:
        if stubbed:
            for name in STUB_PACKAGES:
                if is_stub(sys.modules.get(name)):
                    del sys.modules[name]


def _install_package_stubs() -> None:
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("tensorflow is not installed; graphsurgeon needs it (pip install tensorflow)")
    root = Path(list(spec.submodule_search_locations)[0])
    for name in STUB_PACKAGES:
        if name not in sys.modules:
            stub = ModuleType(name)
            stub.__path__ = [str(root.joinpath(*name.split(".")[1:]))]
            setattr(stub, "__graphsurgeon_stub__", True)  # a marker attribute ModuleType does not declare
            sys.modules[name] = stub


class _Protos:
    """TensorFlow's proto modules by name (pb.graph_pb2, ...), imported on first use."""

    @functools.cached_property
    def _modules(self) -> dict[str, ModuleType]:
        return _import_quietly(TENSORFLOW_PROTOS)

    def __getattr__(self, name: str) -> ModuleType:
        try:
            return self._modules[name]
        except KeyError:
            raise AttributeError(name) from None


pb = _Protos()


def shape_proto(dims: Sequence[int] | None) -> Any:
    """A TensorShapeProto; None is unknown rank, -1 an unknown dimension."""
    proto = pb.tensor_shape_pb2.TensorShapeProto()
    if dims is None:
        proto.unknown_rank = True
    else:
        for d in dims:
            proto.dim.add().size = d
    return proto
