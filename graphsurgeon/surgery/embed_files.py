"""A frozen .pb carries the files its graph reads: vocabulary tables and ReadFile contents become constants.

A SavedModel ships its files in assets/ and the loader feeds their paths; a
GraphDef has nowhere to keep them, so a table initialized from a text file
would read a name (Keras: `keras_hash_table_2_vocabulary.txt`) or a training
machine's path at run time, and fail there with NotFoundError. Here each
such initializer becomes LookupTableImportV2 over the table's keys and
values, which TensorFlow itself reads from the file (so the file format is
TensorFlow's: delimiters, columns, line numbers, vocab_size and offset
keep their meaning); a ReadFile becomes the file's bytes. The initializers
keep their names, and `init_all_tables` runs them all (as
tf.compat.v1.tables_initializer names its op). A file that is not there is
one line naming the reader and the file.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from graphsurgeon.errors import MissingAssetError, WriteError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.proto import to_graph_def
from graphsurgeon.ir.weights import WeightStore
from graphsurgeon.names import TensorRef
from graphsurgeon.tf import runtime

log = logging.getLogger(__name__)

TEXT_INITS = {"InitializeTableFromTextFileV2": ("LookupTableImportV2", "LookupTableExportV2"),
              "InitializeTableFromTextFile": ("LookupTableImport", "LookupTableExport")}
INIT_ALL_TABLES = "init_all_tables"


def embedded_files(model: Model, asset_dir: str | None = None) -> Model:
    """``model`` with every file its graph reads at run time embedded as constants (see the module doc)."""
    graph = model.graph
    files = _file_constants(graph)
    if not files:
        return model
    by_asset = {a.tensor.node: a for a in model.assets}
    changes = {reader.name: _embedded(graph, reader, _located(graph, const, by_asset, asset_dir, reader))
               for reader, const in files}
    outputs = {ref.node for ref in model.outputs}
    embedded = _without_unread_paths(graph.edited(changes), {const for _, const in files}, outputs)
    tables = sorted(name for name in changes if graph[name].op in TEXT_INITS)
    embedded = _with_init_all_tables(embedded, tables)
    log.warning("%d file(s) read at run time are embedded in the .pb (read by %s)%s", len(changes),
                ", ".join(sorted(changes)), f"; run {INIT_ALL_TABLES!r} once before the first lookup" if tables else "")
    return model.replace(graph=embedded, assets=tuple(a for a in model.assets if a.tensor.node in embedded))


def _file_constants(graph: Graph) -> list[tuple[Node, str]]:
    """(reader, the string Const naming its file) for each text-file table initializer and ReadFile."""
    found = []
    for node in graph.of_ops({*TEXT_INITS, "ReadFile"}):
        ref = node.inputs[1] if node.op in TEXT_INITS else node.inputs[0]
        source = graph[graph.source(ref).node]
        if source.op == "Const" and dt.base(source.attrs["dtype"].type) == dt.enum_of("string"):
            found.append((node, source.name))
    return found


def _without_unread_paths(graph: Graph, paths: set[str], outputs: set[str]) -> Graph:
    """``graph`` without the path constants (and the Identity nodes between them and their readers) that
    nothing reads any more; a path something else still reads as a string, or an output, stays."""
    while True:
        read = outputs | {ref.node for node in graph for ref in node.inputs}
        read |= {c for node in graph for c in node.control_inputs}
        unread = [name for name in graph.names if name not in read and (name in paths or (
            graph[name].op == "Identity" and graph.source(TensorRef(name)).node in paths))]
        if not unread:
            return graph
        graph = graph.edited({name: [] for name in unread})


def _located(graph: Graph, const: str, by_asset: dict, asset_dir: str | None, reader: Node) -> Path:
    """Where the file is now: an asset's, found as export finds it, or the path the constant holds."""
    if const in by_asset:
        return by_asset[const].locate(asset_dir)
    recorded = graph[const].attrs["value"].tensor.string_val[0].decode("utf-8", "replace")
    for candidate in ([Path(asset_dir) / Path(recorded).name] if asset_dir else []) + [Path(recorded)]:
        if candidate.is_file():
            return candidate
    raise MissingAssetError(
        f"{reader.op} {reader.name!r} reads file {recorded!r}, which is not there, so a frozen .pb cannot carry "
        "it; pass --asset-dir DIR with the directory that holds it now")


def _embedded(graph: Graph, node: Node, path: Path) -> list[Node]:
    """A ReadFile as the file's bytes; a text-file table initializer as an import of the table's contents."""
    if node.op == "ReadFile":
        return [const_node(node.name, path.read_bytes(), dt.enum_of("string"), node.control_inputs)]
    keys, values = _table_contents(graph, node, path)
    table = graph[graph.source(node.inputs[0]).node]
    key_type, value_type = table.attrs["key_dtype"].type, table.attrs["value_dtype"].type
    keys_node = const_node(graph.free_name(f"{node.name}/keys"), keys, key_type)
    values_node = const_node(graph.free_name(f"{node.name}/values"), values, value_type)
    types = {"Tin": table.attrs["key_dtype"], "Tout": table.attrs["value_dtype"]}
    load = Node(node.name, TEXT_INITS[node.op][0], (node.inputs[0], TensorRef(keys_node.name),
                TensorRef(values_node.name)), node.control_inputs, types, node.device)
    return [keys_node, values_node, load]


def _table_contents(graph: Graph, init: Node, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The keys and values TensorFlow's own initializer reads from ``path``, sorted by key (byte-identical runs)."""
    table = graph[graph.source(init.inputs[0]).node]
    filename = const_node("filename", str(path).encode(), dt.enum_of("string"))
    copy = init.replace(name="init", inputs=(TensorRef("table"), TensorRef("filename")), control_inputs=())
    export = Node("export", TEXT_INITS[init.op][1], (TensorRef("table"),), attrs={
        "Tkeys": table.attrs["key_dtype"], "Tvalues": table.attrs["value_dtype"]})
    tiny = Graph([table.replace(name="table", inputs=(), control_inputs=()), filename, copy, export])
    try:
        keys, values = runtime.run_graph(to_graph_def(tiny, WeightStore()), ["export:0", "export:1"], first=["init"])
    except runtime.import_error() as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise WriteError(f"table initializer {init.name!r} cannot read {path}: {first}") from err
    order = np.argsort(keys, kind="stable")
    return keys[order], values[order]


def _with_init_all_tables(graph: Graph, tables: list[str]) -> Graph:
    """A NoOp that runs every table initializer, unless the graph has a node of that name already."""
    if not tables or INIT_ALL_TABLES in graph:
        return graph
    return graph.with_nodes([*graph, Node(INIT_ALL_TABLES, "NoOp", control_inputs=tuple(sorted(tables)))])
