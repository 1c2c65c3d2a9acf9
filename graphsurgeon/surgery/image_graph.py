"""The image front end's graph: decode, resize and normalize a batch of encoded images.

What the front end does is graphsurgeon's policy, so it lives here; the ops are
TensorFlow's, reached through runtime.tf() (only graphsurgeon.tf imports tensorflow).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphsurgeon.tf import runtime


def image_frontend(height: int, width: int, channels: int, scale: float, offset: Sequence[float],
                   divisor: Sequence[float], bgr: bool, channels_first: bool, input_name: str) -> tuple[Any, str]:
    """A graph from a [None] string batch of encoded images to [N,H,W,C] (or [N,C,H,W]) float32.

    Each image is decoded (JPEG, PNG, GIF, BMP), resized to HxW unless it already
    is that size, then normalized as (pixel * scale - offset) / divisor per
    channel. Returns the GraphDef (with its map_fn loop functions) and the output tensor name.
    """
    t = runtime.tf()
    graph = t.Graph()
    with graph.as_default():
        encoded = t.compat.v1.placeholder(t.string, [None], name=input_name)

        def decode(data: Any) -> Any:
            image = t.io.decode_image(data, channels=channels, expand_animations=False)
            image.set_shape([None, None, channels])
            same = t.logical_and(t.equal(t.shape(image)[0], height), t.equal(t.shape(image)[1], width))
            image = t.cond(same, lambda: t.cast(image, t.float32),
                           lambda: t.image.resize(t.cast(image, t.float32), [height, width]))
            image = t.reshape(image, [height, width, channels])
            if bgr:
                image = t.reverse(image, axis=[-1])
            return (image * scale - t.constant(offset, t.float32)) / t.constant(divisor, t.float32)

        images = t.map_fn(decode, encoded, fn_output_signature=t.float32)
        if channels_first:
            images = t.transpose(images, [0, 3, 1, 2])
        output = t.identity(images, name="pixels")
    return graph.as_graph_def(), output.name
