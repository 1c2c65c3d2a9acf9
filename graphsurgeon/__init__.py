"""graphsurgeon: cut, freeze and export TensorFlow models for TensorFlow Serving.

    recipe = graphsurgeon.Recipe(inputs=["images_ph"], outputs=["encoder/out"], bindings={"is_training": False})
    model = graphsurgeon.load("model.ckpt-1000")          # lazy: no weight is read
    planned = graphsurgeon.plan(model, recipe)           # names resolved, the cut validated
    result = graphsurgeon.export(model, recipe, "serving/encoder")
    assert graphsurgeon.verify(result.path).ok           # replays the recorded recipe against the source

Everything here is a function, a class or an exception; the subpackages
(loaders, surgery, exporters, ...) hold the rest.
"""
# The run, in the order it goes: load, plan, extract or export, audit, verify.
from graphsurgeon.loaders import load
from graphsurgeon.recipe import FrontEnd, Head, Recipe  # isort: skip
from graphsurgeon.plan import Plan, apply, extract, plan  # isort: skip
from graphsurgeon.pipeline import ExportResult, export, write_frozen  # isort: skip
from graphsurgeon.verify import verify  # isort: skip

# The stages extract chains and the writers, for scripts that compose their own run.
from graphsurgeon.surgery import InputSpec, add_top_k, bind, cut, freeze, strip_training  # isort: skip
from graphsurgeon.surgery.frontends import add_image_input  # isort: skip
from graphsurgeon.exporters.graphdef import write_graph_def  # isort: skip
from graphsurgeon.exporters.saved_model import export_saved_model  # isort: skip
from graphsurgeon.audit.summary import compare  # isort: skip

# The IR every stage takes and returns.
from graphsurgeon.ir import Graph, Model, Node, WeightStore  # isort: skip
from graphsurgeon.names import TensorRef  # isort: skip

# User errors: one family, one line each.
from graphsurgeon.errors import (  # isort: skip
    CutError,
    FreezeError,
    GraphSurgeonError,
    LoadError,
    NameNotFoundError,
    OutputExistsError,
    UsageError,
    WriteError,
)

# Last: binding the audit function replaces the attribute the import system set
# to the graphsurgeon.audit subpackage, so graphsurgeon.audit(...) is the call.
from graphsurgeon.audit.report import audit  # isort: skip

__all__ = [
    # the run
    "load", "Recipe", "FrontEnd", "Head", "plan", "Plan", "apply", "extract", "export", "ExportResult",
    "write_frozen", "audit", "verify",
    # stages and writers
    "InputSpec", "add_image_input", "add_top_k", "bind", "compare", "cut", "export_saved_model", "freeze",
    "strip_training", "write_graph_def",
    # IR
    "Graph", "Model", "Node", "TensorRef", "WeightStore",
    # errors
    "CutError", "FreezeError", "GraphSurgeonError", "LoadError", "NameNotFoundError", "OutputExistsError",
    "UsageError", "WriteError",
]
