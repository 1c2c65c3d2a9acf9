"""graphsurgeon: cut, freeze and export TensorFlow models for TensorFlow Serving.

    model = graphsurgeon.load("model.ckpt-1000")
    encoder = graphsurgeon.extract(model, inputs=["images_ph"], outputs=["encoder/out"])
    graphsurgeon.write_graph_def(encoder, "encoder.pb")
"""
from graphsurgeon.audit.summary import compare, summarize
from graphsurgeon.errors import (
    CutError,
    FreezeError,
    GraphSurgeonError,
    LoadError,
    NameNotFoundError,
    OutputExistsError,
    UsageError,
    WriteError,
)
from graphsurgeon.exporters.graphdef import write_graph_def
from graphsurgeon.ir import Graph, Model, Node, WeightStore
from graphsurgeon.loaders import load
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery import InputSpec, bind, cut, extract, freeze, strip_training

__all__ = [
    "CutError", "FreezeError", "Graph", "GraphSurgeonError", "InputSpec", "LoadError", "Model",
    "NameNotFoundError", "Node", "OutputExistsError", "TensorRef", "UsageError", "WeightStore",
    "WriteError", "bind", "compare", "cut", "extract", "freeze", "load", "strip_training",
    "summarize", "write_graph_def",
]
