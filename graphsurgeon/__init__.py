"""graphsurgeon: cut, freeze and export TensorFlow models for TensorFlow Serving.

    recipe = graphsurgeon.Recipe(inputs=["images_ph"], outputs=["encoder/out"], bindings={"is_training": False})
    model = graphsurgeon.load("model.ckpt-1000")          # lazy: no weight is read
    planned = graphsurgeon.plan(model, recipe)           # names resolved, the cut validated
    result = graphsurgeon.export(model, recipe, "serving/encoder")
    assert graphsurgeon.verify(result.path).ok           # replays the recorded recipe against the source
"""
from graphsurgeon.audit.report import audit
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
from graphsurgeon.pipeline import ExportResult, export, write_frozen
from graphsurgeon.plan import Plan, apply, extract, plan
from graphsurgeon.recipe import FrontEnd, Head, Recipe
from graphsurgeon.surgery import InputSpec, add_top_k, bind, cut, freeze, strip_training
from graphsurgeon.surgery.frontends import add_image_input, normalization
from graphsurgeon.verify import verify

__all__ = [
    # the run: load, plan, export (or extract + write_graph_def), audit, verify
    "Recipe", "FrontEnd", "Head", "InputSpec", "load", "plan", "Plan", "apply", "extract", "export", "ExportResult",
    "write_frozen", "write_graph_def", "audit", "verify", "summarize", "compare",
    # the stages and IR, for scripts that compose their own
    "Model", "Graph", "Node", "WeightStore", "TensorRef", "bind", "freeze", "cut", "strip_training",
    "add_image_input", "add_top_k", "normalization", "export_saved_model", "SignatureSpec",
    "ServedModel", "model_config_text", "batching_parameters_text",
    # errors
    "GraphSurgeonError", "LoadError", "NameNotFoundError", "CutError", "FreezeError", "OutputExistsError",
    "WriteError", "UsageError",
]
