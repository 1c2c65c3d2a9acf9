"""Keras 3 sources: .keras archives (and tf.keras 2.13-2.15 ones), and .h5 files Keras 3 wrote.

Metadata (trace=False) comes from the config and the weights file's dataset
headers alone: no Keras, no TensorFlow, no weight bytes; the input placeholders
and output names are already the ones an export will use (keras/config.py).
Tracing refuses unsafe configs first, then has Keras 3 rebuild the model with
its weights as placeholders (keras3_trace.py through runtime.py) and swaps those for
constants read lazily from the file.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from graphsurgeon.errors import LoadError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.formats.hdf5 import HDF5File
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model, Source
from graphsurgeon.ir.weights import WeightInfo, WeightStore, numeric_nbytes
from graphsurgeon.loaders.graphdef import graph_from_proto
from graphsurgeon.loaders.keras import config as kc
from graphsurgeon.loaders.keras.archive import ASSETS_PREFIX, ArchiveH5Source, KerasArchive
from graphsurgeon.loaders.keras.h5 import _metadata_model, _node_name, _text, layer_weight_names
from graphsurgeon.loaders.keras.keras3_replace import Replaced, replaced
from graphsurgeon.loaders.keras.layers import layer_graph
from graphsurgeon.loaders.keras.model_layers import traced_layers
from graphsurgeon.loaders.keras.tables import refuse_untraceable, tables_from_assets
from graphsurgeon.names import TensorRef
from graphsurgeon.tf import runtime
from graphsurgeon.tf.protos import pb, shape_proto

FORMAT_ARCHIVE, FORMAT_H5 = "keras", "keras_h5"


def h5_keras_version(path: Path) -> str:
    """The keras_version attribute of a .h5 file ("" when absent); a file the HDF5 reader cannot list is a LoadError."""
    return _text(HDF5File(path).listing().attr("", "keras_version", ""))


def load_keras_archive(path: Path, trace: bool = True, unsafe_lambda: bool = False,
                       custom_objects: dict | None = None, replacements: Mapping[str, Callable] | None = None,
                       ) -> Model:
    """``replacements`` maps layer names to functions that stand in for them (see keras3_replace.py)."""
    archive = KerasArchive(path)
    config = archive.config if archive.keras_version.startswith("3.") else kc.upgraded(archive.config)
    metadata, groups = _archive_metadata(archive, config)
    if not trace:
        return metadata
    swap = replaced(config, replacements or {}, custom_objects or {})
    kc.refuse_unsafe(swap.config, path, unsafe_lambda, swap.custom_objects)
    assets_dir = _extracted_assets(archive)
    traced = _traced(path, swap, metadata, swap.archive_groups(config, groups), False, assets_dir, unsafe_lambda)
    return tables_from_assets(traced, assets_dir or _temporary_dir()) if traced.init_ops else traced


def load_keras3_h5(path: Path, trace: bool = True, unsafe_lambda: bool = False,
                   custom_objects: dict | None = None, replacements: Mapping[str, Callable] | None = None) -> Model:
    base = _metadata_model(path)
    listing = HDF5File(path).listing()
    raw = listing.attr("", "model_config")
    weight_names = layer_weight_names(listing, path)[1]
    if raw is None:
        if trace:
            raise LoadError(f"{path} holds Keras 3 weights only, which graphsurgeon cannot rebuild a model from; "
                            "save the whole model (model.save('model.keras')) and give that file")
        return base
    config = kc.json_config(_text(raw), path)
    metadata = base if base.inputs else _with_io(base, config, FORMAT_H5)
    if not trace:
        return metadata
    swap = replaced(config, replacements or {}, custom_objects or {})
    kc.refuse_unsafe(swap.config, path, unsafe_lambda, swap.custom_objects)
    weights = {layer: [_entry(metadata, _node_name(layer, w)) for w in names] for layer, names in weight_names.items()}
    traced = _traced(path, swap, metadata, swap.h5_weights(weights), True, None, unsafe_lambda)
    return tables_from_assets(traced, _temporary_dir()) if traced.init_ops else traced


def _entry(metadata: Model, key: str) -> tuple:
    info = metadata.weights[key]
    return (kc.weight_node_name(key), key, info.dtype_name, list(info.shape))


def _archive_metadata(archive: KerasArchive, config: dict) -> tuple[Model, dict[str, dict[str, tuple]]]:
    """The metadata model, and the weights index tracing needs: {layer path: {index: entry}}."""
    nodes: list[Node] = []
    entries: dict[str, tuple[WeightInfo, ArchiveH5Source]] = {}
    groups: defaultdict[str, dict[str, tuple]] = defaultdict(dict)
    source = ArchiveH5Source(str(archive.path))
    attr = pb.attr_value_pb2.AttrValue
    for key, name_in_file, dtype, shape in archive.datasets():
        enum = dt.BY_NAME.get(dtype.name)
        if enum is None:
            continue  # not a tensor
        name = kc.weight_node_name(key)
        nodes.append(Node(name, "VariableV2", attrs={"dtype": attr(type=enum), "shape": attr(shape=shape_proto(shape))}))
        entries[name] = (WeightInfo(name_in_file, enum, shape, numeric_nbytes(enum, shape)), source)
        group, _, index = key.rpartition("/vars/") if "/vars/" in key else ("", "", key.removeprefix("vars/"))
        groups[group][index] = (name, name, dtype.name, list(shape))
    details = {"keras_version": archive.keras_version, "model_class": str(config.get("class_name", "unknown"))}
    base = Model(graph=Graph(nodes), weights=WeightStore(entries),
                 source=Source(str(archive.path), FORMAT_ARCHIVE, traced=False, details=details))
    layers = layer_graph(config, kc.weights_by_layer(config, groups))
    if layers is None:  # a subclassed model: no layers in its config
        return _with_io(base, config, FORMAT_ARCHIVE), dict(groups)
    return base.replace(graph=Graph([*nodes, *layers.nodes]), inputs=tuple(TensorRef(n) for n in layers.inputs),
                        outputs=tuple(TensorRef(n) for n in layers.outputs), layers=layers.layers), dict(groups)


def _with_io(model: Model, config: dict, fmt: str) -> Model:
    """Input placeholders and output names from the config: the ones tracing will create."""
    attr = pb.attr_value_pb2.AttrValue
    inputs = kc.inputs_of(config)
    placeholders = [Node(i.name, "Placeholder", attrs={
        "dtype": attr(type=dt.BY_NAME.get(i.dtype, 1)),
        "shape": attr(shape=shape_proto(tuple(-1 if d is None else int(d) for d in i.shape)))}) for i in inputs]
    details = {**model.source.details, "model_class": str(config.get("class_name", "unknown"))}
    return model.replace(graph=model.graph.with_nodes([*placeholders, *model.graph]),
                         inputs=tuple(TensorRef(i.name) for i in inputs),
                         outputs=tuple(TensorRef(n) for n in kc.outputs_of(config)),
                         source=Source(model.source.path, fmt, traced=False, details=details))


def _traced(path: Path, swap: Replaced, metadata: Model, weights: dict, legacy_h5: bool, assets_dir: str | None,
            unsafe_lambda: bool) -> Model:
    """``swap``: the config to build (with the --replace-layer functions, if any) and its custom objects."""
    # The metadata's names (what inspect shows) name the placeholders; the config gives their dtypes and shapes.
    refuse_untraceable(swap.config, str(path))
    inputs = [(r.node, i.dtype, i.shape) for r, i in zip(metadata.inputs, kc.inputs_of(swap.config))]
    outputs = [r.node for r in metadata.outputs]
    try:
        trace = runtime.trace_keras3(runtime.KerasTraceRequest(swap.config, inputs, outputs, weights, legacy_h5, assets_dir,
                                                       swap.custom_objects, unsafe_lambda, swap.layers))
    except runtime.KerasTraceError as err:
        where = f"layer {err.layer!r}: " if err.layer else ""
        raise LoadError(swap.failure(path, where, str(err)) if swap.layers else _trace_failure(path, err)) from err
    graph = graph_from_proto(trace.graph_def, str(path))
    nodes = [Node(n.name, "Const", attrs={"dtype": n.attrs["dtype"]}, weight=trace.weights[n.name])
             if n.name in trace.weights else n for n in graph]
    graph, layers = traced_layers(graph.with_nodes(nodes), trace.layers, metadata.inputs)
    source = Source(str(path), metadata.source.format, details=metadata.source.details)
    return Model(graph=graph, weights=metadata.weights, source=source, inputs=metadata.inputs,
                 outputs=tuple(TensorRef(n) for n in trace.outputs), init_ops=tuple(trace.table_inits), layers=layers)


def _trace_failure(path: Path, err: Any) -> str:
    reason = str(err)
    where = f"layer {err.layer!r}: " if err.layer else ""
    hint = "; if it names a custom class, supply it with --custom-objects module.py"
    if "Could not locate" in reason or "Unknown" in reason or "custom" in reason.lower():
        return f"{path}: Keras 3 could not rebuild the model: {where}{reason}{hint}"
    return f"{path}: Keras 3 could not rebuild the model: {where}{reason}"


def _extracted_assets(archive: KerasArchive) -> str | None:
    """The archive's assets/ (vocabularies) in a temporary directory that lives until exit; None if it has none."""
    members = archive.asset_files
    if not members:
        return None
    root = Path(_temporary_dir())
    for name in members:
        target = (root / name[len(ASSETS_PREFIX):]).resolve()
        if root.resolve() not in target.parents:
            raise LoadError(f"{archive.path}: asset {name!r} points outside the archive's assets/; refusing it")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read_member(name))
    return str(root)


def _temporary_dir() -> str:
    """A directory for vocabulary files the export copies into assets/; removed when the process exits."""
    root = tempfile.mkdtemp(prefix="graphsurgeon-keras-assets-")
    atexit.register(shutil.rmtree, root, True)
    return root


__all__ = ["load_keras_archive", "load_keras3_h5", "h5_keras_version"]
