"""Keras 2 tracing with tf_keras, owned by runtime.py (which imports it lazily, with TensorFlow's native
output held back): the only module that imports tf_keras.

The model is rebuilt by tf_keras from the .h5 (or a rewritten config), called with
training=False inside one tf.function, and frozen with TensorFlow's own
convert_variables_to_constants_v2.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from graphsurgeon.tf.keras_trace import KerasTrace
from graphsurgeon.tf.layer_calls import LayerRecorder


def trace(t: ModuleType, freeze: Callable[..., Any], path: str, architecture: str | None,
          custom_objects: Mapping[str, Any], config_json: str | None = None) -> KerasTrace:
    """Load a Keras 2 .h5 with tf_keras, trace it with training=False, and freeze the trace.

    The caller has already refused Lambda bytecode and Keras 1 files; ``config_json``
    is a config it rewrote (--replace-layer). Every layer's call outputs and masks
    are returned by the traced function after the model's own outputs, so that
    freezing (which inlines and renames) keeps them and says what they became. ``freeze`` is
    TensorFlow's convert_variables_to_constants_v2, which runtime hands over.
    """
    model = _model(path, architecture, custom_objects, config_json)
    input_names = [layer.name for layer in model._input_layers]
    specs = [t.TensorSpec(i.shape, i.dtype, name=name) for i, name in zip(model.inputs, input_names)]
    recorder = LayerRecorder(model, t.Tensor)
    recorded: list = []  # the layers' tensors, in the order the traced function returns them after the outputs

    @t.function(autograph=False)
    def inference(*inputs: Any) -> list:
        outputs = model(list(inputs) if len(inputs) > 1 else inputs[0], training=False)
        recorded.extend(recorder.tensors(t.compat.v1.get_default_graph()))
        return [*t.nest.flatten(outputs), *recorded]

    concrete = inference.get_concrete_function(*specs)
    frozen = freeze(concrete)
    # The converter names each constant after the placeholder that captured the variable's handle.
    captured = {id(external): internal.op.name for external, internal in concrete.graph.captures}
    constants = {captured[id(v.handle)]: v.name.split(":")[0] for v in model.variables if id(v.handle) in captured}
    count = len(model.output_names)
    outputs = list(zip(model.output_names, [o.name for o in frozen.outputs[:count]]))
    # Each returned tensor is an Identity the converter named (Identity_7); the loader aliases what it reads.
    returned = {id(tensor): o.name for tensor, o in zip(recorded, frozen.outputs[count:])}
    layers = recorder.layers(concrete.graph, lambda tensor: returned[id(tensor)])
    return KerasTrace(_by_name(frozen.graph.as_graph_def()), input_names, outputs, constants, layers)


def _model(path: str, architecture: str | None, custom_objects: Mapping[str, Any], config_json: str | None) -> Any:
    """The tf_keras model: from the file, or from a config (an --architecture file, a rewritten config) and the
    file's weights."""
    import tf_keras

    if config_json is None and architecture is not None:
        config_json = Path(architecture).read_text()
    if config_json is None:
        return tf_keras.models.load_model(path, compile=False, custom_objects=dict(custom_objects))
    model = tf_keras.models.model_from_json(config_json, custom_objects=dict(custom_objects))
    model.load_weights(path)
    return model


def _by_name(graph_def: Any) -> Any:
    """``graph_def`` with its nodes sorted by name. Freezing a traced Keras 2 RNN adds its nodes in an order
    that changes from run to run; an export must be the same bytes every time (GraphDef order is free)."""
    nodes = sorted(graph_def.node, key=lambda node: node.name)
    del graph_def.node[:]
    graph_def.node.extend(nodes)
    return graph_def
