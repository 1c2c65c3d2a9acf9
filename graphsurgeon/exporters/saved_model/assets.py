"""Asset files: found (or remapped), copied once into assets/, and recorded once each."""
from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from graphsurgeon.errors import MissingAssetError, UsageError, WriteError
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.model import Asset
from graphsurgeon.names import TensorRef
from graphsurgeon.tf.protos import pb


def with_extra_assets(graph: Graph, assets: Sequence[Asset], extra: Sequence[str]) -> tuple[Graph, list[Asset]]:
    """Files the user adds: each gets a string Const for the loader to feed, like any asset."""
    assets = list(assets)
    nodes = list(graph)
    for i, path in enumerate(extra):
        _check_extra_asset(Path(path))
        name = os.path.basename(path)
        node = const_node(f"graphsurgeon_assets/{i}", name.encode(), dt.enum_of("string"))
        nodes.append(node)
        assets.append(Asset(TensorRef(node.name), name, str(path)))
    return graph.with_nodes(nodes), assets


def _check_extra_asset(path: Path) -> None:
    if path.is_dir():
        raise UsageError(f"--asset {path} is a directory; --asset takes files (e.g. --asset {path}/*)")
    if not path.is_file():
        raise MissingAssetError(f"--asset {path}: no such file; check the path")


def copy_assets(assets: Sequence[Asset], asset_dir: str | None, target: Path) -> list[Asset]:
    """Copy each distinct file into ``target`` once; one AssetFileDef per tensor, never two."""
    written: dict[str, Path] = {}
    recorded: list[Asset] = []
    for asset in sorted(set(assets), key=lambda a: (str(a.tensor), a.filename)):
        source = asset.locate(asset_dir)
        if asset.filename in written:
            if not _same_file(written[asset.filename], source):
                raise WriteError(
                    f"two different files are both named {asset.filename!r} ({written[asset.filename]} and {source}); "
                    "rename one of them"
                )
        else:
            target.mkdir(exist_ok=True)
            shutil.copyfile(source, target / asset.filename)
            written[asset.filename] = source
        recorded.append(asset)
    return recorded


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve() or a.read_bytes() == b.read_bytes()


def asset_file_defs(assets: Sequence[Asset]) -> list:
    defs = []
    for asset in assets:
        d = pb.meta_graph_pb2.AssetFileDef(filename=asset.filename)
        d.tensor_info.name = str(asset.tensor)
        d.tensor_info.dtype = dt.enum_of("string")
        defs.append(d)
    return defs
