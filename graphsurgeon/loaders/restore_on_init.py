"""Variables restored at init from another checkpoint: a TF-Hub module's checkpoint_initializer.

hub.Module (and tf.train.init_from_checkpoint) replace a variable's initial value
by a RestoreV2 reading the module's checkpoint, by the path it had when the graph
was built (often ./tfhub_modules/<hash>/variables/variables). That checkpoint
is read here, from ``weights`` (where it is now, like --asset-dir for assets)
or else from the recorded path; each such variable gets a weight keyed by its
node name. When neither exists, freeze says which file is wanted and which flag
supplies it.
"""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from graphsurgeon.errors import LoadError
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.region import Region
from graphsurgeon.ir.ops import RESTORE_OPS, VARIABLE_OPS
from graphsurgeon.ir.variable_defs import restore_on_init
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.loaders import checkpoint
from graphsurgeon.loaders.partitions import Part, part_entries

log = logging.getLogger(__name__)


def init_checkpoints(model: Model) -> dict[str, tuple[str, str]]:
    """Variable name -> (checkpoint prefix, key) for every variable whose initial value is a restore."""
    out: dict[str, tuple[str, str]] = {}
    if not _restores_outside_saver(model):
        return out  # the common case, decided without parsing every variable's VariableDef
    for name, op in model.graph.name_ops():
        if op in VARIABLE_OPS:
            found = restore_on_init(model.graph, name, model)
            if found is not None:
                out[name] = found
    return out


def _restores_outside_saver(model: Model) -> bool:
    """Whether some restore op is not the saver's (a TF1 Saver names all its ops under its own scope)."""
    restore_op = model.saver_def.restore_op_name if model.saver_def is not None else ""
    scope = restore_op.rpartition("/")[0] + "/" if "/" in restore_op else None
    return any(scope is None or not node.name.startswith(scope) for node in model.graph.of_ops(RESTORE_OPS))


def local_prefix(recorded: str, weights: str | None, model_dir: Path) -> str | None:
    """Where the checkpoint a graph recorded is now: ``weights`` if given, else the recorded path
    (as is, or beside the model), else None."""
    if weights is not None:
        return checkpoint.locate(Path(weights)).pattern
    for candidate in (recorded, str(model_dir / recorded)):
        if Path(candidate + ".index").is_file():
            return candidate
    return None


def with_init_checkpoints(model: Model, weights: str | None) -> Model:
    """``model`` with values for its restore-on-init variables, read from where their checkpoint is now."""
    wanted = init_checkpoints(model)
    if not wanted and weights is None:
        return model
    if weights is not None and not model.source.checkpoint:
        # A .meta without its checkpoint: --weights is that checkpoint too, and a variable it lacks is missing.
        pattern = checkpoint.locate(Path(weights)).pattern
        model = model.replace(weights=model.weights.merged(_store(weights)),
                              source=dataclasses.replace(model.source, checkpoint=pattern))
    model_dir = Path(model.source.path).parent
    stores: dict[str, WeightStore] = {}
    parts: dict[str, dict[str, Part]] = {}
    for variable, (recorded, key) in wanted.items():
        prefix = local_prefix(recorded, weights, model_dir)
        if prefix is None:
            continue
        store = stores.setdefault(prefix, _store(prefix))
        if key not in store:
            log.warning("checkpoint %s has no %r for variable %s", prefix, key, variable)
            continue
        shape = store[key].shape
        parts.setdefault(prefix, {})[variable] = Part(key, shape, Region.whole(shape))
    added = WeightStore()
    for prefix, members in parts.items():
        added = added.merged(part_entries(stores[prefix], members))
    keys = {name: name for name in added}
    return model.replace(weights=model.weights.merged(added), variable_keys={**model.variable_keys, **keys})


def _store(prefix_or_dir: str) -> WeightStore:
    files = checkpoint.locate(Path(prefix_or_dir))
    if files.pattern is None:
        raise LoadError(f"--weights {prefix_or_dir}: no checkpoint data there (expected PREFIX.index and "
                        "PREFIX.data-*); give the checkpoint's prefix or its directory")
    return checkpoint.read_index(files.pattern)


__all__ = ["init_checkpoints", "local_prefix", "with_init_checkpoints"]
