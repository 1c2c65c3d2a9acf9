"""Static checks of a SavedModel directory, the mistakes Serving punishes at load time."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphsurgeon import defaults
from graphsurgeon.formats import saved_model as layout
from graphsurgeon.formats.limits import SERVING_PB_LIMIT
from graphsurgeon.ir.ops import PYTHON_OPS
from graphsurgeon.ir.signatures import INIT_SIGNATURE
from graphsurgeon.ir.types import unregistered_ops
from graphsurgeon.loaders.graphdef import parse_proto
from graphsurgeon.loaders.init_ops import LOADER_INIT_COLLECTIONS
from graphsurgeon.tf.protos import pb


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    message: str


def lint(directory: Path, tags: list[str]) -> list[Finding]:
    proto = layout.proto(directory)
    saved_model = parse_proto(proto, pb.saved_model_pb2.SavedModel(), "SavedModel")
    meta = next((m for m in saved_model.meta_graphs if set(m.meta_info_def.tags) == set(tags)), None)
    findings = [
        Finding("version folder", directory.name.isdigit(),
                f"folder name {directory.name!r} " + ("is a version number" if directory.name.isdigit()
                                                      else "is not numeric; Serving only loads BASE/<integer>/")),
        Finding("saved_model.pb size", proto.stat().st_size < SERVING_PB_LIMIT,
                f"{proto.name} is {proto.stat().st_size} bytes (limit 1 GiB)"),
    ]
    if meta is None:
        available = [sorted(m.meta_info_def.tags) for m in saved_model.meta_graphs]
        return findings + [Finding("tags", False, f"no MetaGraph tagged {tags}; it has {available}")]
    return findings + [
        _serving_default(meta, tags), _variables(directory, meta), _assets(directory, meta),
        _one_init_op(meta), _runtime_ops(meta),
    ]


def _serving_default(meta: Any, tags: list[str]) -> Finding:
    ok = defaults.SERVE_TAG in tags and defaults.DEFAULT_SIGNATURE in meta.signature_def
    return Finding("serve tag and serving_default", ok,
                   f"tag {defaults.SERVE_TAG!r} and signature {defaults.DEFAULT_SIGNATURE!r} present" if ok
                   else f"tags {tags}, signatures {sorted(meta.signature_def)}: Serving's default needs both")


def _variables(directory: Path, meta: Any) -> Finding:
    """A model that restores variables (it has a saver) needs variables/variables.index."""
    restores = meta.HasField("saver_def") and any(n.name == meta.saver_def.restore_op_name for n in meta.graph_def.node)
    index = layout.variables_index(directory)
    ok = index.is_file() or not restores
    return Finding("variables.index", ok, "variables.index present" if index.is_file() else
                   ("nothing to restore" if ok else "the graph restores variables but variables/variables.index is missing"))


def _assets(directory: Path, meta: Any) -> Finding:
    names = [d.filename for d in meta.asset_file_def]
    tensors = [d.tensor_info.name for d in meta.asset_file_def]
    folder = layout.assets(directory)
    missing = [n for n in names if not (folder / n).is_file()]
    on_disk = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    unreferenced = sorted(on_disk - set(names))
    duplicated = sorted({t for t in tensors if tensors.count(t) > 1})
    ok = not (missing or unreferenced or duplicated)
    problems = [f"missing {missing}"] * bool(missing) + [f"unreferenced {unreferenced}"] * bool(unreferenced) + \
        [f"tensor listed twice {duplicated} (the loader fails: fed more than once)"] * bool(duplicated)
    return Finding("assets", ok, f"{len(names)} asset(s), all present" if ok else "; ".join(problems))


def _one_init_op(meta: Any) -> Finding:
    ops = set()
    if INIT_SIGNATURE in meta.signature_def:
        ops |= {t.name for t in meta.signature_def[INIT_SIGNATURE].outputs.values()}
    for key in LOADER_INIT_COLLECTIONS:
        ops |= set(meta.collection_def[key].node_list.value) if key in meta.collection_def else set()
    return Finding("one init op", len(ops) == 1, f"init op {sorted(ops)}" if len(ops) == 1
                   else f"{len(ops)} init ops {sorted(ops)}: the loader runs exactly one")


def _runtime_ops(meta: Any) -> Finding:
    library = meta.graph_def.library
    ops = {n.op for n in meta.graph_def.node} | {n.op for f in library.function for n in f.node_def}
    bad = sorted(set(unregistered_ops(ops, library)) | (ops & PYTHON_OPS))
    return Finding("C++ runtime ops", not bad, "every op runs in the C++ runtime" if not bad
                   else f"ops {bad} need Python or are not registered: Serving cannot run them")
