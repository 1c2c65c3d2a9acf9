"""graphsurgeon: cut, freeze and export TensorFlow models for TensorFlow Serving.

    import graphsurgeon as gs

    model = gs.load("model.ckpt-1000")                        # lazy: no weight is read
    recipe = gs.Recipe(inputs=["images_ph"], outputs=["encoder/out"])
    planned = gs.plan(model, recipe)                          # every name resolved, the run validated
    result = gs.export(model, recipe, "serving/encoder")      # what `graphsurgeon export` does
    assert gs.verify(result.path).ok                          # replays the recorded recipe against the source
    gs.write_frozen(model, recipe, "encoder.pb")              # what `graphsurgeon cut` does
    report = gs.audit(model, recipe=recipe)                   # what `graphsurgeon audit` does
    encoder = planned.apply()                                 # the cut as a Model, for stages of your own

The stages (bind, freeze, cut, strip_training, add_image_input, add_top_k)
are in graphsurgeon.surgery, the writers in graphsurgeon.exporters, the
errors (GraphSurgeonError and its subclasses) in graphsurgeon.errors.
"""
import types as _types

import graphsurgeon.audit as audit
import graphsurgeon.verify as verify
from graphsurgeon.errors import GraphSurgeonError
from graphsurgeon.ir.model import Model
from graphsurgeon.loaders import load
from graphsurgeon.names import TensorRef
from graphsurgeon.pipeline import export, write_frozen
from graphsurgeon.plan import Plan, plan
from graphsurgeon.recipe import Recipe


class _CallablePackage(_types.ModuleType):
    """graphsurgeon.audit and graphsurgeon.verify are packages (``import graphsurgeon.audit`` gives the
    package), and calling one calls the function it is named after: gs.audit(...) is gs.audit.audit(...)."""

    def __call__(self, *args: object, **kwargs: object) -> object:
        return getattr(self, self.__name__.rpartition(".")[2])(*args, **kwargs)


audit.__class__ = _CallablePackage
verify.__class__ = _CallablePackage

__all__ = ["load", "Recipe", "plan", "Plan", "export", "write_frozen", "audit", "verify", "Model", "TensorRef",
           "GraphSurgeonError"]
