"""add_image_input(model, input): accept encoded image bytes where the network takes pixels.

The chosen input becomes the output of a front end that decodes a [None] batch
of JPEG/PNG/... strings, resizes each to the input's static height and width
(passing through images already that size), and normalizes them. The signature
input key defaults to image_bytes, so TensorFlow Serving's REST {"b64": ...}
convention works. A malformed image fails the request with DecodeImage's error.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphsurgeon import defaults
from graphsurgeon.errors import UsageError
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.proto import graph_from_proto
from graphsurgeon.ir.resolve import Resolver
from graphsurgeon.ir.shapes import static_shape
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery.image_graph import image_frontend
from graphsurgeon.tf.protos import pb

SCOPE = "image_frontend"


@dataclass(frozen=True)
class Normalization:
    """pixel -> (pixel * scale - offset) / divisor, per channel; bgr reverses channel order first."""

    scale: float = 1 / 255
    offset: tuple[float, ...] = (0.0,)
    divisor: tuple[float, ...] = (1.0,)
    bgr: bool = False


PRESETS = {
    "-0.5,0.5": Normalization(1 / 255, (0.5,)),
    "-1,1": Normalization(2 / 255, (1.0,)),
    "0,1": Normalization(1 / 255),
    "0,255": Normalization(1.0),
    "caffe": Normalization(1.0, (103.939, 116.779, 123.68), (1.0,), bgr=True),
}
# Words for the ranges that start with '-', which a command line would read as an option.
PRESETS |= {"inception": PRESETS["-1,1"], "centered": PRESETS["-0.5,0.5"], "unit": PRESETS["0,1"],
            "raw": PRESETS["0,255"]}


def normalization(preset: str | None, mean: Sequence[float] | None = None,
                  std: Sequence[float] | None = None) -> Normalization:
    """A preset by name, or pixels in [0, 255] normalized as (pixel - mean) / std."""
    if mean is not None or std is not None:
        if any(not math.isfinite(v) for v in (*(mean or ()), *(std or ()))):
            raise UsageError(f"--mean {mean} / --std {std}: every value must be a finite number")
        if any(v == 0 for v in std or ()):
            raise UsageError(f"--std {' '.join(map(str, std or ()))}: a divisor of 0 turns pixels into inf/nan; "
                             "give each channel's standard deviation (e.g. --std 58.4 57.1 57.4)")
        return Normalization(1.0, tuple(mean or (0.0,)), tuple(std or (1.0,)))
    key = (preset or "0,1").strip("[]() ").replace(" ", "")
    if key not in PRESETS:
        raise UsageError(f"unknown normalization {preset!r}: use one of {', '.join(PRESETS)} or --mean/--std")
    return PRESETS[key]


def add_image_input(model: Model, name: str | TensorRef, *, norm: Normalization = Normalization(),
                    channels_first: bool = False, key: str = defaults.IMAGE_KEY) -> Model:
    """``name`` (a Placeholder: a cut's input; a TensorRef from a Plan, or a name to resolve) takes encoded images."""
    model.require_graph("add an image input to")
    ref = name if isinstance(name, TensorRef) else Resolver(model).tensor(name, "--image-input")
    node = model.graph[ref.node]
    if node.op != "Placeholder" or ref.port != 0:
        raise UsageError(f"--image-input {name}: {node.op} {ref.node!r} is not a Placeholder; cut there first "
                         "(--inputs) so the network's pixel input is a Placeholder")
    height, width, channels = _image_dims(model, ref, channels_first)
    _check_channels(norm, channels, ref.node)
    graph_def, output = image_frontend(height, width, channels, norm.scale, norm.offset, norm.divisor,
                                       norm.bgr, channels_first, key)
    frontend = _scoped(graph_from_proto(graph_def, "image front end"), key)
    pixels = Node(ref.node, "Identity", (TensorRef(f"{SCOPE}/{TensorRef.parse(output).node}"),),
                  attrs={"T": node.attrs["dtype"]})
    nodes = [pixels if n.name == ref.node else n for n in model.graph] + list(frontend)
    library = _merged_library(model.graph, frontend)
    graph = Graph(nodes, library, model.graph.versions)
    inputs = tuple(TensorRef(key) if r == ref else r for r in model.inputs)
    return model.replace(graph=graph, inputs=inputs, signatures={})


def _image_dims(model: Model, ref: TensorRef, channels_first: bool) -> tuple[int, int, int]:
    shape = static_shape(model, ref)
    dims = None if shape is None or len(shape) != 4 else (shape[2], shape[3], shape[1]) if channels_first \
        else (shape[1], shape[2], shape[3])
    if dims is None or min(dims) < 1 or dims[2] not in (1, 3):
        raise UsageError(f"--image-input {ref.node}: its shape {shape} is not [N,H,W,1|3] (or [N,1|3,H,W] with "
                         "--channels-first) with known sizes; give it one with --inputs NAME=float32[?,H,W,3]")
    return dims


def _check_channels(norm: Normalization, channels: int, name: str) -> None:
    for option, values in (("--mean", norm.offset), ("--std", norm.divisor)):
        if len(values) not in (1, channels):
            raise UsageError(f"{option} has {len(values)} values, but --image-input {name} has {channels} "
                             f"channel(s); give 1 value or {channels}")


def _scoped(frontend: Graph, key: str) -> Graph:
    """Front-end nodes renamed into SCOPE, except the string input, which is the signature's."""
    def renamed(name: str) -> str:
        return name if name == key else f"{SCOPE}/{name}"

    nodes = [n.replace(name=renamed(n.name), inputs=tuple(TensorRef(renamed(r.node), r.port) for r in n.inputs),
                       control_inputs=tuple(renamed(c) for c in n.control_inputs)) for n in frontend]
    return frontend.with_nodes(nodes)


def _merged_library(graph: Graph, frontend: Graph) -> Any:
    if frontend.library is None:
        return graph.library
    library = pb.function_pb2.FunctionDefLibrary()
    if graph.library is not None:
        library.CopyFrom(graph.library)
    have = {f.signature.name for f in library.function}
    library.function.extend(f for f in frontend.library.function if f.signature.name not in have)
    library.gradient.extend(frontend.library.gradient)
    return library
