"""Model -> Model stages: bind, freeze, cut, strip_training (graphsurgeon.plan chains them), and the
front end and head a Recipe may add (add_image_input, add_top_k)."""
from __future__ import annotations

from graphsurgeon.surgery.bind import bind
from graphsurgeon.surgery.cut import cut
from graphsurgeon.surgery.freeze import freeze
from graphsurgeon.surgery.frontends import add_image_input
from graphsurgeon.surgery.heads import add_top_k
from graphsurgeon.surgery.prune import strip_training
from graphsurgeon.surgery.select import InputSpec

__all__ = ["InputSpec", "add_image_input", "add_top_k", "bind", "cut", "freeze", "strip_training"]
