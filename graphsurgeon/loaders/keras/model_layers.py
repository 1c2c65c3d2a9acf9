"""Model.layers of a Keras source: the layers a user can name in --inputs and --outputs (see ir/resolve.py).

A layer is spelled by its own name when that is unique in the whole model
(nested models included), else by its path through the enclosing models,
``model/dense``; ``NAME@K`` then picks call K of a layer called several times.
A traced model (tf/layer_calls.py) gives every call site's output tensors and
Keras mask. Each gets an Identity alias, so the names survive freezing and
cutting and read well in a cut's .pb: ``dense`` for a layer called once with
one output, ``model/call1`` for call 1 of a shared layer, ``lstm_1/output2``
for output 2 of a multi-output layer, ``embedding/mask`` for a mask. A call's
mask is recorded (Layer.mask) when a later layer reads a mask (an RNN,
attention), so that a cut ending there can say it leaves the mask behind.
Loaded without tracing (inspect), the config alone gives the layers, their
nesting and how often each is called; only top-level layers have a tensor
there (their node in the layer graph).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Layer
from graphsurgeon.names import TensorRef
from graphsurgeon.tf.layer_calls import LayerCalls
from graphsurgeon.tf.protos import pb

INPUT_LAYER = "InputLayer"


def traced_layers(graph: Graph, records: Sequence[LayerCalls],
                  inputs: Sequence[TensorRef]) -> tuple[Graph, dict[str, Layer]]:
    """``graph`` with an Identity alias for every call's outputs and mask, and the layers by spelling.

    ``inputs`` are the model's input placeholders, which are its input layers.
    """
    spellings = _spellings([r.path for r in records], inputs)
    aliases = _Aliases(graph, {*spellings.values(), *(i.node for i in inputs)})
    read = _read_by_masked_layers(graph, records)
    layers = _input_layers(inputs)
    for record in records:
        name = spellings[record.path]
        named = [_named_call(aliases, name, name if len(record.calls) == 1 else f"{name}/call{k}", outputs, mask, read)
                 for k, (outputs, mask) in enumerate(zip(record.calls, record.masks))]
        layers[name] = Layer(name, record.class_name, tuple(tensors for tensors, _ in named),
                             spellings.get(record.path[:-1]), tuple(mask for _, mask in named))
    return aliases.graph_with_aliases(), layers


def _named_call(aliases: _Aliases, layer: str, base: str, outputs: Sequence[tuple[str, int]],
                mask: tuple[str, int] | None, read: Collection[str]) -> tuple[tuple[TensorRef, ...], TensorRef | None]:
    """One call's outputs (BASE, or BASE/outputI) and, where a later layer reads it, its mask (BASE/mask)."""
    tensors = tuple(aliases.add(base if len(outputs) == 1 else f"{base}/output{i}", layer, tensor, dtype)
                    for i, (tensor, dtype) in enumerate(outputs))
    if mask is None or TensorRef.parse(outputs[0][0]).node not in read:
        return tensors, None
    return tensors, aliases.add(f"{base}/mask", layer, *mask)


def config_layers(config: Mapping[str, Any], nodes: Collection[str], inputs: Sequence[TensorRef]) -> dict[str, Layer]:
    """The layers of a model config, without tracing: a top-level layer's calls are its node in ``nodes``
    (the layer graph's), a nested layer's are empty (its tensors exist once the model is traced)."""
    entries = _config_entries(config)
    spellings = _spellings([path for path, _, _ in entries], inputs)
    layers = _input_layers(inputs)
    for path, class_name, count in entries:
        name = spellings[path]
        tensors = (TensorRef(path[0]),) if len(path) == 1 and path[0] in nodes else ()
        layers[name] = Layer(name, class_name, (tensors,) * count, spellings.get(path[:-1]))
    return layers


def _read_by_masked_layers(graph: Graph, records: Sequence[LayerCalls]) -> set[str]:
    """The nodes that some call given a mask (a mask-reading layer) depends on, itself left out."""
    ends = {TensorRef.parse(call[0][0]).node for record in records
            for call, masked in zip(record.calls, record.masked) if masked}
    found: set[str] = set()
    pending = [source for end in ends for source in graph[end].input_nodes()]
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(graph[name].input_nodes())
    return found


def _input_layers(inputs: Sequence[TensorRef]) -> dict[str, Layer]:
    return {ref.node: Layer(ref.node, INPUT_LAYER, ((ref,),)) for ref in inputs}


def _spellings(paths: Sequence[tuple[str, ...]], inputs: Sequence[TensorRef]) -> dict[tuple[str, ...], str]:
    """Each layer's own name where no other layer (or input) has it, else its path ``outer/inner/name``."""
    counts = Counter([path[-1] for path in paths] + [ref.node for ref in inputs])
    return {path: path[-1] if counts[path[-1]] == 1 else "/".join(path) for path in paths}


class _Aliases:
    """Identity nodes naming traced tensors, put in the data path: every node that read a tensor reads its
    alias instead, so a cut at the alias (an input) separates what follows it. Aliases of one tensor
    (a nested model's output is its last layer's) form a chain. A name already in the graph, or the
    spelling of another layer (which the resolver would find as a node first), gets a numbered suffix,
    unless it is an Identity of the same tensor already (a model output alias), which joins the chain."""

    def __init__(self, graph: Graph, spellings: Collection[str]):
        self.graph, self.spellings = graph, spellings
        self._nodes: dict[str, Node] = {}  # aliases by name: new nodes, and the graph's own rewired
        self._named: dict[str, TensorRef] = {}  # alias -> the tensor it names
        self._ends: dict[TensorRef, TensorRef] = {}  # tensor -> the last alias in its chain

    def add(self, wanted: str, layer: str, tensor: str, dtype: int) -> TensorRef:
        ref = TensorRef.parse(tensor)
        name, number = wanted, 0
        while not self._usable(name, layer, ref):
            number += 1
            name = f"{wanted}_{number}"
        if self._named.get(name) == ref:
            return TensorRef(name)
        end = self._ends.get(ref, ref)
        existing = self.graph.get(name)
        self._nodes[name] = existing.replace(inputs=(end,)) if existing is not None else \
            Node(name, "Identity", (end,), attrs={"T": pb.attr_value_pb2.AttrValue(type=dtype)})
        self._named[name], self._ends[ref] = ref, TensorRef(name)
        return TensorRef(name)

    def graph_with_aliases(self) -> Graph:
        """The graph with the aliases added, and every other reader of an aliased tensor reading its last alias."""
        consumers = self.graph.data_consumers
        changed = {name: node for name, node in self._nodes.items() if name in self.graph}
        for ref, end in self._ends.items():
            for name, slot in consumers.get(ref, ()):
                if name not in self._nodes:
                    node = changed.get(name) or self.graph[name]
                    changed[name] = node.replace(inputs=(*node.inputs[:slot], end, *node.inputs[slot + 1:]))
        added = [node for name, node in self._nodes.items() if name not in self.graph]
        return self.graph.with_nodes([*(changed.get(node.name, node) for node in self.graph), *added])

    def _usable(self, name: str, layer: str, ref: TensorRef) -> bool:
        """Free (in neither the graph nor the aliases), or an Identity of ``ref`` already; never another's spelling."""
        if name != layer and name in self.spellings:
            return False
        if name in self._named:
            return self._named[name] == ref
        node = self.graph.get(name)
        return node is None or (node.op == "Identity" and len(node.inputs) == 1
                                and self.graph.source(node.inputs[0]) == self.graph.source(ref))


def _config_entries(config: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str, int]]:
    """(path, class name, times called) of every layer in a model config, nested models' layers too.

    Input layers are left out: the top model's are its inputs, and a nested
    model's are never called (the caller's tensors go straight in). A nested
    model's layers run once per call of the model.
    """
    entries: list[tuple[tuple[str, ...], str, int]] = []
    pending: list[tuple[Mapping[str, Any], tuple[str, ...], int]] = [(config, (), 1)]
    while pending:
        model, prefix, times = pending.pop(0)
        for layer in _layer_list(model):
            if layer.get("class_name") == INPUT_LAYER:
                continue
            name = str((layer.get("config") or {}).get("name") or layer.get("name") or "")
            calls = max(1, len(layer.get("inbound_nodes") or ())) * times
            entries.append(((*prefix, name), str(layer.get("class_name")), calls))
            if _layer_list(layer):
                pending.append((layer, (*prefix, name), calls))
    return entries


def _layer_list(model: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    body = model.get("config")
    layers = body.get("layers") if isinstance(body, Mapping) else body
    return [layer for layer in layers if isinstance(layer, Mapping)] if isinstance(layers, list) else []
