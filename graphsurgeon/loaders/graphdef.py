"""GraphDef protos (.pb, .pbtxt) -> Graph."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from google.protobuf import message, text_format

from graphsurgeon.errors import LoadError, first_line
from graphsurgeon.ir.model import Model, Source
from graphsurgeon.ir.proto import graph_from_proto
from graphsurgeon.tf.protos import pb


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
            f"{path} is not a valid {what} ({first_line(err)}); the file may be truncated or of another kind"
        ) from err
    except RecursionError as err:  # the text parser recurses once per nested message
        raise LoadError(f"{path} nests messages too deeply to be a {what}; the file is damaged or hostile") from err
    return proto


def load_graphdef(path: Path) -> Model:
    graph_def = parse_proto(path, pb.graph_pb2.GraphDef(), "GraphDef")
    if not graph_def.node:
        raise LoadError(f"{path} holds no nodes: it is empty, truncated, or not a GraphDef")
    return Model(graph=graph_from_proto(graph_def, str(path)), source=Source(str(path), "graphdef"))
