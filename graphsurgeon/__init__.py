"""graphsurgeon: cut, freeze and export TensorFlow models for TensorFlow Serving.

    model = graphsurgeon.load("model.ckpt-1000")
    encoder = graphsurgeon.extract(model, inputs=["images_ph"], outputs=["encoder/out"])
    graphsurgeon.write_graph_def(encoder, "encoder.pb")
    version_dir = graphsurgeon.export_saved_model(encoder, "serving/encoder")
    assert graphsurgeon.verify(version_dir, against="model.ckpt-1000").ok
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
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.exporters.saved_model.signatures import SignatureSpec
from graphsurgeon.exporters.serving_files import ServedModel, batching_parameters_text, model_config_text
from graphsurgeon.ir import Graph, Model, Node, WeightStore
from graphsurgeon.loaders import load
from graphsurgeon.names import TensorRef
from graphsurgeon.surgery import InputSpec, add_top_k, bind, cut, extract, freeze, strip_training
from graphsurgeon.surgery.frontends import add_image_input, normalization
from graphsurgeon.verify import verify

__all__ = [
    "CutError", "FreezeError", "Graph", "GraphSurgeonError", "InputSpec", "LoadError", "Model",
    "NameNotFoundError", "Node", "OutputExistsError", "SignatureSpec", "TensorRef", "UsageError", "WeightStore",
    "ServedModel", "WriteError", "add_image_input", "add_top_k", "batching_parameters_text", "bind", "compare", "cut", "export_saved_model", "extract", "freeze", "load", "model_config_text", "normalization", "strip_training",
    "summarize", "verify", "write_graph_def",
]
