"""Model -> Model stages: bind, freeze, cut, strip_training, and extract, which chains them."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from graphsurgeon.ir.model import Model
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery.bind import bind
from graphsurgeon.surgery.cut import cut
from graphsurgeon.surgery.freeze import freeze
from graphsurgeon.surgery.heads import add_top_k
from graphsurgeon.surgery.prune import strip_training
from graphsurgeon.surgery.select import InputSpec, resolve_all


def extract(model: Model, inputs: Sequence[str | InputSpec], outputs: Sequence[str | TensorRef], *,
            bindings: Mapping[str, object] | None = None, init_from_initializers: bool = False,
            strip: bool = True) -> Model:
    """Bind, freeze what the outputs need, cut between inputs and outputs, strip training nodes.

    The result is self-contained: every variable it keeps is a (lazy) constant.
    """
    if bindings:
        model = bind(model, bindings)
    specs = [s if isinstance(s, InputSpec) else InputSpec(str(s)) for s in inputs]
    input_refs = resolve_all(model.graph, [s.name for s in specs], "input")
    model = freeze(model, outputs, input_refs, init_from_initializers=init_from_initializers)
    model = cut(model, specs, outputs)
    return strip_training(model) if strip else model


__all__ = ["InputSpec", "add_top_k", "bind", "cut", "extract", "freeze", "strip_training"]
