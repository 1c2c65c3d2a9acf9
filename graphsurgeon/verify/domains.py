"""What values an input takes, read from what the graph does with it.

Polygraphy makes the user type value ranges (--val-range); the graph says
them already. Walking forward from an input through ops that pass values
along (Identity, Cast, Reshape, slices, ...), the first op that consumes the
values says what they mean: ids for a Gather/OneHot stay below the table's
size (float ids that are cast included), keys of a lookup table come from its
vocabulary, a string parsed as tf.Example gets Examples with the features the
parser reads, one decoded as an image gets a PNG and one decoded as audio a WAV.
Nothing here runs the graph or reads a weight.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.ops import LINE_NUMBER, TABLE_INIT_OPS, WHOLE_LINE
from graphsurgeon.ir.tensors import to_array
from graphsurgeon.names import TensorRef

MAX_WALK = 200  # nodes visited from one input: the meaning is near the input or nowhere
MAX_VOCABULARY = 10_000  # lines read from a vocabulary file
# Ops whose outputs carry their input's values (rearranged, cast or selected): op -> the slots that do.
PASSING: dict[str, tuple[int, ...] | None] = {
    "Identity": (0,), "IdentityN": None, "Snapshot": (0,), "StopGradient": (0,), "Cast": (0,),
    "Reshape": (0,), "ExpandDims": (0,), "Squeeze": (0,), "Transpose": (0,), "StridedSlice": (0,),
    "Slice": (0,), "Tile": (0,), "BroadcastTo": (0,), "ReverseV2": (0,), "Pack": None, "Unpack": (0,),
    "ConcatV2": None, "Split": (1,), "SplitV": (0,), "GatherV2": (0,), "Gather": (0,),
    "PlaceholderWithDefault": (0,), "StringLower": (0,), "StringUpper": (0,), "StringStrip": (0,),
    "StaticRegexReplace": (0,), "RegexReplace": (0,),
}
SPLITTING = frozenset({"StringSplitV2", "StringSplit"})  # text into words: the words are what a table looks up
GATHERS = {"GatherV2": 1, "Gather": 1, "ResourceGather": 1, "SparseSegmentSum": 1, "SparseSegmentMean": 1,
           "SparseSegmentSqrtN": 1}  # op -> the slot holding ids
# op -> the slot holding sequence lengths, which must not exceed the sequences' length
LENGTHS = {"ReverseSequence": 1, "CTCGreedyDecoder": 1, "CTCBeamSearchDecoder": 1, "CTCLoss": 3, "CTCLossV2": 3}
LOOKUPS = frozenset({"LookupTableFindV2", "LookupTableFind"})
# The table initializers whose keys verify can read: a tensor of keys, or a vocabulary file.
TABLE_INITS = {op: "file" if "TextFile" in op else "keys" for op in TABLE_INIT_OPS if op != "InitializeTableFromDataset"}
PARSERS = frozenset({"ParseExample", "ParseExampleV2", "ParseSingleExample"})
IMAGE_DECODERS = frozenset({"DecodePng", "DecodeImage"})  # they read PNG, which verify writes itself
AUDIO_DECODERS = frozenset({"DecodeWav"})


@dataclass(frozen=True)
class Feature:
    """One feature a tf.Example parser reads: its key, dtype, per-example shape (None: sparse) and values."""

    key: str
    dtype: int
    shape: tuple[int, ...] | None
    domain: "Domain"


@dataclass(frozen=True)
class Domain:
    """What values an input takes, and why; the default is numbers in [0, 1) (floats) or [0, 4) (ints)."""

    kind: str = "default"  # default | ids | lengths | vocabulary | example | image | audio
    high: int | None = None  # ids: [0, high); lengths: [1, high)
    words: tuple = ()  # vocabulary: keys (bytes or ints) of a table
    split: bool = False  # vocabulary: the input is text that is split into words first
    features: tuple[Feature, ...] = ()  # example
    size: tuple[int, ...] = ()  # image: (height, width, channels); audio: (samples, channels)
    why: str = ""
    notes: tuple[str, ...] = field(default=())


def domain_of(model: Model, ref: TensorRef, assets_dir: Path | None) -> Domain:
    """The values ``ref`` should take, from the first op downstream that says what they mean."""
    graph = model.graph
    bound: Domain | None = None
    for node, slot, split in _consumers(graph, ref):
        found = _meaning(model, node, slot, split, assets_dir)
        if found is None:
            continue
        if found.kind != "ids":
            return found
        if bound is None or (found.high or 0) < (bound.high or 0):
            bound = found  # ids read by several tables stay below the smallest
    return bound or Domain()


def _consumers(graph: Graph, start: TensorRef) -> Iterator[tuple[Node, int, bool]]:
    """(node, slot, split into words on the way) for every op the values reach, passing ops walked through."""
    stack = [(start, False)]
    seen: set[TensorRef] = set()
    while stack and len(seen) < MAX_WALK:
        ref, split = stack.pop()
        if ref in seen:
            continue
        seen.add(ref)
        for name, slot in graph.data_consumers.get(ref, ()):
            node = graph[name]
            passing = PASSING.get(node.op, ())
            if node.op in SPLITTING and slot == 0:
                stack.append((TensorRef(name, 1), True))  # the values of the words' sparse tensor
            elif passing is None or slot in passing:
                stack.extend((TensorRef(name, port), split) for port in range(_outputs(node)))
            else:
                yield node, slot, split


def _outputs(node: Node) -> int:
    if node.op in ("Split", "SplitV"):
        return node.attrs["num_split"].i
    if node.op == "Unpack":
        return node.attrs["num"].i
    if node.op == "IdentityN":
        return len(node.inputs)
    return 1


def _meaning(model: Model, node: Node, slot: int, split: bool, assets_dir: Path | None) -> Domain | None:
    graph = model.graph
    if GATHERS.get(node.op) == slot:
        axis = _const_int(graph, node.inputs[2]) if node.op == "GatherV2" and len(node.inputs) > 2 else 0
        rows = _dim(model, node.inputs[0], axis or 0)
        return Domain("ids", rows, why=f"ids into {node.op} {node.name!r} over {rows} rows") if rows else None
    if LENGTHS.get(node.op) == slot:
        return Domain("lengths", why=f"sequence lengths for {node.op} {node.name!r}")
    if node.op == "OneHot" and slot == 0:
        depth = _const_int(graph, node.inputs[1])
        return Domain("ids", depth, why=f"indices of OneHot {node.name!r} of depth {depth}") if depth else None
    if node.op in LOOKUPS and slot == 1:
        return _vocabulary(model, node, split, assets_dir)
    if node.op in PARSERS and slot == 0:
        return _example(model, node, assets_dir)
    if node.op in IMAGE_DECODERS and slot == 0:
        channels = node.attrs["channels"].i if "channels" in node.attrs else 0
        return Domain("image", size=(32, 32, channels or 3), why=f"encoded images for {node.op} {node.name!r}: PNG")
    if node.op in AUDIO_DECODERS and slot == 0:
        samples = node.attrs["desired_samples"].i if "desired_samples" in node.attrs else -1
        channels = node.attrs["desired_channels"].i if "desired_channels" in node.attrs else -1
        return Domain("audio", size=(samples if samples > 0 else 16000, channels if channels > 0 else 1),
                      why=f"audio for {node.op} {node.name!r}: 16-bit WAV")
    return None


def _vocabulary(model: Model, lookup: Node, split: bool, assets_dir: Path | None) -> Domain | None:
    graph = model.graph
    table = graph.source(lookup.inputs[0])
    for name, slot in graph.data_consumers.get(table, ()):
        init = graph[name]
        if slot != 0 or init.op not in TABLE_INITS:
            continue
        if TABLE_INITS[init.op] == "keys":  # from a Const; keys an export moved into variables/ are not read
            keys = _const(graph, init.inputs[1])
            words = tuple(to_array(keys.attrs["value"].tensor).ravel().tolist()) if keys is not None else ()
            where = f"the keys of table {table.node!r}"
        else:
            words, where = _file_keys(model, init, assets_dir)
        if words:
            return Domain("vocabulary", words=words[:MAX_VOCABULARY], split=split,
                          why=f"{'text of words' if split else 'words'} from {where} ({len(words)} entries), "
                              "plus one out of the vocabulary")
    return None


def _file_keys(model: Model, init: Node, assets_dir: Path | None) -> tuple[tuple, str]:
    """The keys a table initialized from a text file holds: whole lines, line numbers or one column."""
    path = _asset_file(model, init.inputs[1], assets_dir)
    if path is None:
        return (), ""
    lines = path.read_bytes().splitlines()[:MAX_VOCABULARY]
    index = init.attrs["key_index"].i if "key_index" in init.attrs else WHOLE_LINE
    if index == LINE_NUMBER:
        return tuple(range(len(lines))), f"the line numbers of {path.name}"
    if index >= 0:
        delimiter = init.attrs["delimiter"].s if "delimiter" in init.attrs else b"\t"
        return tuple(line.split(delimiter)[index] for line in lines if len(line.split(delimiter)) > index), \
            f"column {index} of {path.name}"
    return tuple(lines), path.name


def _asset_file(model: Model, ref: TensorRef, assets_dir: Path | None) -> Path | None:
    """The file a table's filename tensor names: an asset of the export (through a path variable, if one holds it)."""
    graph = model.graph
    source = graph.source(ref, through=("Identity", "ReadVariableOp"))
    candidates = {source}
    if graph.op_of(source.node) in ("VariableV2", "VarHandleOp"):  # an asset-path variable: what its init assigns
        candidates |= {graph.source(graph[c].inputs[1]) for c, s in graph.data_consumers.get(TensorRef(source.node), ())
                       if s == 0 and len(graph[c].inputs) > 1}
    for asset in model.assets:
        if asset.tensor in candidates:
            located = (assets_dir / asset.filename) if assets_dir else Path(asset.path)
            return located if located.is_file() else None
    return None


def _example(model: Model, parser: Node, assets_dir: Path | None) -> Domain:
    """The features a tf.Example parser reads, each with the values its own consumers want."""
    graph = model.graph
    attrs = parser.attrs
    if parser.op == "ParseSingleExample":
        sparse = [k.decode() for k in attrs["sparse_keys"].list.s]
        dense = [k.decode() for k in attrs["dense_keys"].list.s]
    elif parser.op == "ParseExample":
        ns, nd = attrs["Nsparse"].i, attrs["Ndense"].i
        sparse = [_const_str(graph, r) for r in parser.inputs[2:2 + ns]]
        dense = [_const_str(graph, r) for r in parser.inputs[2 + ns:2 + ns + nd]]
    else:
        sparse, dense = _const_strs(graph, parser.inputs[2]), _const_strs(graph, parser.inputs[3])
    sparse_types = list(attrs["sparse_types"].list.type)
    dense_types = list(attrs["Tdense"].list.type)
    shapes = [tuple(d.size for d in s.dim) for s in attrs["dense_shapes"].list.shape]
    features = []
    for i, key in enumerate(sparse):
        domain = domain_of(model, TensorRef(parser.name, len(sparse) + i), assets_dir)
        features.append(Feature(key, sparse_types[i], None, domain))
    for i, key in enumerate(dense):
        domain = domain_of(model, TensorRef(parser.name, 3 * len(sparse) + i), assets_dir)
        features.append(Feature(key, dense_types[i], shapes[i] if i < len(shapes) else (), domain))
    keys = ", ".join(f.key for f in features)
    return Domain("example", features=tuple(features),
                  why=f"tf.Examples for {parser.op} {parser.name!r} with feature(s) {keys}")


def _dim(model: Model, ref: TensorRef, axis: int) -> int | None:
    """Size ``axis`` of a table tensor, from the shape its variable or constant declares."""
    graph = model.graph
    source = graph.source(ref, through=("Identity", "ReadVariableOp", "Enter"))
    node = graph[source.node]
    if "shape" in node.attrs and node.op in ("VariableV2", "VarHandleOp", "Placeholder", "Variable"):
        dims = [] if node.attrs["shape"].shape.unknown_rank else [d.size for d in node.attrs["shape"].shape.dim]
    elif node.op == "Const" and node.weight is not None and node.weight in model.weights:
        dims = list(model.weights[node.weight].shape)
    elif node.op == "Const":
        dims = [d.size for d in node.attrs["value"].tensor.tensor_shape.dim]
    else:
        return None
    return dims[axis] if axis < len(dims) and dims[axis] > 0 else None


def _const(graph: Graph, ref: TensorRef) -> Node | None:
    node = graph.get(graph.source(ref).node)
    return node if node is not None and node.op == "Const" and "value" in node.attrs else None


def _const_int(graph: Graph, ref: TensorRef) -> int | None:
    node = _const(graph, ref)
    if node is None or not dt.numpy_of_or_none(node.attrs["dtype"].type):
        return None
    value = to_array(node.attrs["value"].tensor)
    return int(value.ravel()[0]) if value.size == 1 and value.dtype.kind in "iu" else None


def _const_strs(graph: Graph, ref: TensorRef) -> list[str]:
    node = _const(graph, ref)
    if node is None:
        return []
    return [v.decode("utf-8", "replace") for v in to_array(node.attrs["value"].tensor).ravel().tolist()]


def _const_str(graph: Graph, ref: TensorRef) -> str:
    values = _const_strs(graph, ref)
    return values[0] if values else ""
