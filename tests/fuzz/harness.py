"""Mutated real models through load, extract and the writers: anything but a GraphSurgeonError is a bug.

A case is a seed model with one file mutated: byte flips, truncation, inserted
bytes, or (for GraphDefs and MetaGraphs) a parsed proto with one field changed
(a node's name, op, inputs or an attr's dtype, shape or tensor). run_case()
writes the case into a fresh folder and runs the pipeline with a per-case
alarm, so a hang is reported rather than waited for.
"""
from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

import graphsurgeon as gs
from graphsurgeon.errors import GraphSurgeonError
from graphsurgeon.exporters.graphdef import write_graph_def
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.tf.protos import pb
from tests.tiny import extract

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
CASE_TIMEOUT = 20  # seconds; the slowest honest case (a Keras trace) takes a few


@dataclass(frozen=True)
class Seed:
    """A small real model: its files, the one the fuzzer mutates, and what to cut from it."""

    name: str
    files: dict[str, Path]  # file name in the case folder -> the seed file
    mutated: str  # which of files is mutated
    model: str  # what to load, relative to the case folder
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    proto: type | None = None  # GraphDef or MetaGraphDef: proto-field mutations apply


def seeds(generated: Path | None) -> list[Seed]:
    corpus, index_seed = SHARED / "corpus", SHARED / "reliability" / "fuzz-repro" / "index-seed"
    found = [
        Seed("frozen_pb", {"m.pb": corpus / "tf2onnx_regression_frozen" / "frozen.pb"}, "m.pb", "m.pb",
             ("X",), ("pred",), pb.graph_pb2.GraphDef),
        Seed("cond_meta", {"m.meta": corpus / "tfnet_meta_cond_test" / "cond_test.meta"}, "m.meta", "m.meta",
             (), ("cond/Merge",), pb.meta_graph_pb2.MetaGraphDef),
        Seed("ckpt_index", {n: index_seed / n for n in ("model.index", "model.meta", "model.data-00000-of-00001")},
             "model.index", "model", ("X",), ("pred",)),
    ]
    return [s for s in found + _generated_seeds(generated) if all(p.is_file() for p in s.files.values())]


def _generated_seeds(generated: Path | None) -> list[Seed]:
    """Seeds from fixtures/build.py's output: Keras 2 and 3 files, a TF2 SavedModel, a partitioned checkpoint."""
    if generated is None:
        return []
    keras3, tf2 = generated / "keras3", generated / "tf2" / "multi_signature"
    partitioned = {f"model.ckpt-1{s}": generated / "partitioned_embedding" / f"model.ckpt-1{s}"
                   for s in (".index", ".meta", ".data-00000-of-00001")}
    saved_model = {name: tf2 / name for name in ("saved_model.pb", "fingerprint.pb", "variables/variables.index",
                                                 "variables/variables.data-00000-of-00001")}
    return [
        Seed("keras_h5", {"m.h5": generated / "keras" / "planet.h5"}, "m.h5", "m.h5", (), ()),
        Seed("keras3_h5", {"m.h5": keras3 / "cnn.h5"}, "m.h5", "m.h5", (), ()),
        Seed("keras3_archive", {"m.keras": keras3 / "cnn.keras"}, "m.keras", "m.keras", (), ()),
        Seed("tf2_saved_model", saved_model, "saved_model.pb", ".", (), (), pb.saved_model_pb2.SavedModel),
        Seed("tf2_variables", saved_model, "variables/variables.data-00000-of-00001", ".", (), ()),
        Seed("partitioned_index", partitioned, "model.ckpt-1.index", "model.ckpt-1", ("ids",), ("scores",)),
        Seed("partitioned_meta", partitioned, "model.ckpt-1.meta", "model.ckpt-1", ("ids",), ("scores",),
             pb.meta_graph_pb2.MetaGraphDef),
    ]


# ---------------------------------------------------------------- mutations

def byte_mutations(size: int) -> st.SearchStrategy:
    """A list of ('flip', pos, mask) / ('truncate', pos) / ('insert', pos, bytes) operations."""
    pos = st.integers(0, max(size - 1, 0))
    op = st.one_of(
        st.tuples(st.just("flip"), pos, st.integers(1, 255)),
        st.tuples(st.just("truncate"), pos),
        st.tuples(st.just("insert"), pos, st.binary(min_size=1, max_size=16)),
    )
    return st.lists(op, min_size=1, max_size=4)


def apply_bytes(data: bytes, ops: list[tuple]) -> bytes:
    out = bytearray(data)
    for kind, where, *arg in ops:
        where = min(where, len(out))
        if kind == "flip" and where < len(out):
            out[where] ^= arg[0]
        elif kind == "truncate":
            del out[where:]
        elif kind == "insert":
            out[where:where] = arg[0]
    return bytes(out)


NAMES = st.one_of(st.just(""), st.sampled_from(["X", "pred", "W", "cond/Merge", "X:1", "^X", "a" * 300]),
                  st.text(max_size=12))
DTYPES = st.one_of(st.integers(-3, 130), st.just(999), st.sampled_from([1, 3, 7, 9, 10, 14, 20, 21, 101]))
DIMS = st.lists(st.one_of(st.integers(-3, 8), st.just(2**40), st.just(2**63 - 1)), max_size=4)
OPS = st.sampled_from(["Placeholder", "Const", "Identity", "Mul", "Add", "NoOp", "Switch", "Merge", "VariableV2",
                       "Assign", "NoSuchOp", "", "MatMul", "Enter", "Exit", "PyFunc"])
SLICE_INFO = st.one_of(st.tuples(st.sampled_from(["full_shape", "var_offset", "var_shape"]), DIMS),
                       st.tuples(st.just("full_name"), NAMES))
FIELD_EDITS = st.one_of(
    st.tuples(st.just("name"), NAMES),
    st.tuples(st.just("op"), OPS),
    st.tuples(st.just("add_input"), NAMES),
    st.tuples(st.just("drop_inputs"), st.just(None)),
    st.tuples(st.just("attr_type"), st.sampled_from(["dtype", "T", "DstT"]), DTYPES),
    st.tuples(st.just("attr_shape"), st.sampled_from(["shape", "_output_shapes"]), DIMS),
    st.tuples(st.just("attr_tensor"), DTYPES, DIMS, st.binary(max_size=16)),
    st.tuples(st.just("drop_attrs"), st.just(None)),
    st.tuples(st.just("duplicate"), st.just(None)),
    st.tuples(st.just("delete"), st.just(None)),
    st.tuples(st.just("slice_info"), SLICE_INFO),  # a partitioned variable's VariableDef (MetaGraphs only)
)


def proto_mutations() -> st.SearchStrategy:
    return st.lists(st.tuples(st.integers(0, 10_000), FIELD_EDITS), min_size=1, max_size=3)


def apply_proto(data: bytes, proto_type: type, edits: list[tuple]) -> bytes:
    message = proto_type.FromString(data)
    meta = message.meta_graphs[0] if proto_type is pb.saved_model_pb2.SavedModel and message.meta_graphs else \
        message if proto_type is pb.meta_graph_pb2.MetaGraphDef else None
    graph = meta.graph_def if meta is not None else message
    for index, (kind, *args) in edits:
        if kind == "slice_info":
            if meta is not None:
                _edit_slice_info(meta, index, *args[0])
        elif graph.node:
            _edit_node(graph, index % len(graph.node), kind, args)
    return message.SerializeToString()


def _edit_slice_info(meta, index: int, field: str, value) -> None:
    """Change one field of the save_slice_info of a partitioned variable's VariableDef in the "variables" collection."""
    values = meta.collection_def["variables"].bytes_list.value if "variables" in meta.collection_def else []
    parts = [i for i, raw in enumerate(values) if pb.variable_pb2.VariableDef.FromString(raw).HasField(
        "save_slice_info_def")]
    if not parts:
        return
    i = parts[index % len(parts)]
    var_def = pb.variable_pb2.VariableDef.FromString(values[i])
    info = var_def.save_slice_info_def
    if field == "full_name":
        info.full_name = value
    else:
        getattr(info, field)[:] = value
    values[i] = var_def.SerializeToString()


def _edit_node(graph, i: int, kind: str, args: list) -> None:
    node = graph.node[i]
    if kind == "name":
        node.name = args[0]
    elif kind == "op":
        node.op = args[0]
    elif kind == "add_input":
        node.input.append(args[0])
    elif kind == "drop_inputs":
        del node.input[:]
    elif kind == "attr_type":
        node.attr[args[0]].type = args[1] % 2**31 if args[1] >= 0 else 0
    elif kind == "attr_shape":
        node.attr[args[0]].shape.CopyFrom(pb.tensor_shape_pb2.TensorShapeProto(
            dim=[pb.tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in args[1]]))
    elif kind == "attr_tensor":
        tensor = node.attr["value"].tensor
        tensor.dtype = args[0] % 2**31 if args[0] >= 0 else 0
        tensor.tensor_shape.CopyFrom(pb.tensor_shape_pb2.TensorShapeProto(
            dim=[pb.tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in args[1]]))
        tensor.tensor_content = args[2]
    elif kind == "drop_attrs":
        node.attr.clear()
    elif kind == "duplicate":
        graph.node.add().CopyFrom(node)
    elif kind == "delete":
        del graph.node[i]


# ---------------------------------------------------------------- running one case

class CaseTimeout(Exception):
    """The case ran longer than CASE_TIMEOUT: a hang."""


@dataclass(frozen=True)
class Outcome:
    kind: str  # "ok", "refused" (a GraphSurgeonError), "exception", "hang"
    detail: str = ""
    where: str = ""  # the innermost graphsurgeon frame, file:line: a finding's signature

    def signature(self) -> str:
        return f"{self.kind} {self.detail.split(':', 1)[0]} at {self.where}"


def _innermost(err: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(err.__traceback__) if "/graphsurgeon/" in f.filename]
    return f"{frames[-1].filename.rsplit('/graphsurgeon/', 1)[1]}:{frames[-1].lineno}" if frames else "?"


def run_case(seed: Seed, data: bytes, *, export: bool = False, timeout: int = CASE_TIMEOUT,
             keep: Callable[[Path], None] | None = None) -> Outcome:
    """Write ``seed`` with ``data`` as its mutated file into a fresh folder and run the pipeline there."""
    with tempfile.TemporaryDirectory(prefix="gs-fuzz-") as tmp:
        folder = Path(tmp)
        for name, path in seed.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            if name == seed.mutated:
                (folder / name).write_bytes(data)
            else:
                shutil.copy(path, folder / name)
        if keep is not None:
            keep(folder)
        try:
            with _alarm(timeout):
                _pipeline(seed, folder, export)
        except GraphSurgeonError as err:
            return Outcome("refused", str(err))
        except CaseTimeout as err:
            return Outcome("hang", f"over {timeout} s", _innermost(err))
        except Exception as err:  # the finding: anything else escaping is a bug
            return Outcome("exception", f"{type(err).__name__}: {str(err)[:300]}", _innermost(err))
    return Outcome("ok")


def _pipeline(seed: Seed, folder: Path, export: bool) -> None:
    model = gs.load(folder / seed.model)
    if not seed.outputs and not model.outputs:
        return
    result = extract(model, list(seed.inputs), list(seed.outputs or map(str, model.outputs)))
    (folder / "out").mkdir()
    write_graph_def(result, folder / "out" / "x.pb")
    if export:
        export_saved_model(result, folder / "serving")


@contextlib.contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    """SIGALRM interrupts Python code stuck in a loop; a campaign's parent process catches native hangs."""
    def expired(signum, frame):
        raise CaseTimeout()

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
