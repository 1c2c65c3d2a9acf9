"""GraphDef protos (.pb, .pbtxt) -> Graph."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from google.protobuf import message, text_format

from graphsurgeon.errors import LoadError
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model, Source
from graphsurgeon.names import split_node_inputs
from graphsurgeon.protos import pb


def graph_from_proto(graph_def: Any, path: str) -> Graph:
    """Build a Graph from a GraphDef, checking every input names a real node.

    A node's attrs are the parsed proto's own map, not a copy: the GraphDef
    stays alive behind them, and copying 100k maps costs seconds.
    """
    nodes = []
    for nd in graph_def.node:
        inputs, control = split_node_inputs(nd.input)
        nodes.append(Node(nd.name, nd.op, inputs, control, nd.attr, nd.device))
    library = graph_def.library if graph_def.HasField("library") else None
    versions = graph_def.versions if graph_def.HasField("versions") else None
    graph = Graph(nodes, library, versions)
    _check_inputs_exist(graph, path)
    return graph


def _check_inputs_exist(graph: Graph, path: str) -> None:
    for node in graph:
        for src in node.input_nodes():
            if src not in graph:
                raise LoadError(
                    f"{path}: node {node.name!r} reads from {src!r}, which is not in the graph; "
                    "the file is probably truncated or was cut by another tool - re-export or re-download it"
                )


def parse_proto(path: Path, proto: Any, what: str) -> Any:
    """Parse ``path`` into ``proto`` as binary, or as text for .pbtxt files."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise LoadError(f"cannot read {path}: {err.strerror}") from err
    try:
        if path.suffix == ".pbtxt":
            text_format.Parse(data.decode("utf-8"), proto, allow_unknown_field=True)
        else:
            proto.ParseFromString(data)
    except (message.DecodeError, text_format.ParseError, UnicodeDecodeError) as err:
        raise LoadError(
            f"{path} is not a valid {what} ({err}); the file may be truncated or of another kind"
        ) from err
    return proto


def load_graphdef(path: Path) -> Model:
    graph_def = parse_proto(path, pb.graph_pb2.GraphDef(), "GraphDef")
    if not graph_def.node:
        raise LoadError(f"{path} holds no nodes: it is empty, truncated, or not a GraphDef")
    return Model(graph=graph_from_proto(graph_def, str(path)), source=Source(str(path), "graphdef"))
