"""Load a SavedModel with TensorFlow's C++ loader, as TensorFlow Serving does, and run tensors.

Runs as a script in its own process and never imports the tensorflow Python
package (or graphsurgeon): only ctypes, numpy and the C API that ships inside
the TensorFlow wheel (TF_LoadSessionFromSavedModel in libtensorflow_cc.so.2).

    python capi_runner.py REQUEST.json
    python capi_runner.py -        # load the library now, then serve each REQUEST.json path read from stdin

REQUEST.json: {"inputs": "in.npz", "outputs": "out.npz", "sessions": [SESSION, ...]}, where a SESSION is
          {"export_dir": ..., "tags": ["serve"], "runs": [RUN, ...]}   a SavedModel, loaded as Serving loads it
       or {"graph_def": "graph.pb", "runs": [RUN, ...]}            a GraphDef, imported into a new session
and a RUN is {"feeds": {"x:0": "key in in.npz"}, "fetches": ["y:0"], "targets": ["init"]}.
Sessions run one after another, each closed before the next opens, so the
process holds one model's weights at a time. A run that fails is reported and
the next one still runs. Older requests are still served: {"export_dir", "tags",
"runs"} is one session, and {"import_graph_def": "graph.pb"} only imports a GraphDef.

Writes out.npz with arrays "s{k}/r{i}/{j}" for fetch j of run i of session k, and
prints one JSON line per request: {"ok": ..., "error": ..., "sessions": [{"error": ...,
"runs": [error or null, ...]}], "tensorflow_imported": false}; "ok" is true when
every session loaded and every run ran, and "error" is then the first failure.
"""
from __future__ import annotations

import ctypes
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

# TF_DataType enum values <-> numpy (tensorflow/c/tf_datatype.h).
TF_STRING = 7
DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 8: np.complex64,
          9: np.int64, 10: np.bool_, 17: np.uint16, 18: np.complex128, 19: np.float16, 22: np.uint32, 23: np.uint64}
TSTRING_SIZE = 24  # sizeof(TF_TString)


class TFOutput(ctypes.Structure):
    _fields_ = [("oper", ctypes.c_void_p), ("index", ctypes.c_int)]


class TFBuffer(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("length", ctypes.c_size_t), ("dealloc", ctypes.c_void_p)]


def _library() -> ctypes.CDLL:
    spec = importlib.util.find_spec("tensorflow")  # locates the wheel without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the tensorflow wheel is not installed; its C API is needed to verify")
    root = Path(list(spec.submodule_search_locations)[0])
    ctypes.CDLL(str(root / "libtensorflow_framework.so.2"), mode=ctypes.RTLD_GLOBAL)
    lib = ctypes.CDLL(str(root / "libtensorflow_cc.so.2"), mode=ctypes.RTLD_GLOBAL)
    vp, cp, i, sz = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t
    signatures = {
        "TF_NewStatus": ([], vp), "TF_GetCode": ([vp], i), "TF_Message": ([vp], cp),
        "TF_NewSessionOptions": ([], vp), "TF_NewGraph": ([], vp), "TF_NewBuffer": ([], ctypes.POINTER(TFBuffer)),
        "TF_DeleteGraph": ([vp], None),
        "TF_LoadSessionFromSavedModel": ([vp, vp, cp, ctypes.POINTER(cp), i, vp, vp, vp], vp),
        "TF_NewSession": ([vp, vp, vp], vp),
        "TF_GraphOperationByName": ([vp, cp], vp),
        "TF_SessionRun": ([vp, vp, ctypes.POINTER(TFOutput), ctypes.POINTER(vp), i, ctypes.POINTER(TFOutput),
                           ctypes.POINTER(vp), i, ctypes.POINTER(vp), i, vp, vp], None),
        "TF_AllocateTensor": ([i, ctypes.POINTER(ctypes.c_int64), i, sz], vp),
        "TF_TensorData": ([vp], vp), "TF_TensorByteSize": ([vp], sz), "TF_TensorType": ([vp], i),
        "TF_NumDims": ([vp], i), "TF_Dim": ([vp, i], ctypes.c_int64), "TF_DeleteTensor": ([vp], None),
        "TF_StringInit": ([vp], None), "TF_StringCopy": ([vp, cp, sz], None),
        "TF_StringGetDataPointer": ([vp], vp), "TF_StringGetSize": ([vp], sz),
        "TF_CloseSession": ([vp, vp], None), "TF_DeleteSession": ([vp, vp], None),
        "TF_NewBufferFromString": ([vp, sz], ctypes.POINTER(TFBuffer)),
        "TF_NewImportGraphDefOptions": ([], vp),
        "TF_GraphImportGraphDef": ([vp, ctypes.POINTER(TFBuffer), vp, vp], None),
    }
    for name, (args, result) in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, result
    return lib


class Runner:
    def __init__(self, lib: ctypes.CDLL):
        self.lib = lib
        self.status = lib.TF_NewStatus()
        self.graph: Any = None
        self.session: Any = None

    def check(self, what: str) -> None:
        if self.lib.TF_GetCode(self.status) != 0:
            raise RuntimeError(f"{what}: {self.lib.TF_Message(self.status).decode(errors='replace')}")

    def load(self, export_dir: str, tags: list[str]) -> None:
        self.graph = self.lib.TF_NewGraph()
        tag_array = (ctypes.c_char_p * len(tags))(*[t.encode() for t in tags])
        self.session = self.lib.TF_LoadSessionFromSavedModel(
            self.lib.TF_NewSessionOptions(), None, export_dir.encode(), tag_array, len(tags), self.graph,
            self.lib.TF_NewBuffer(), self.status)
        self.check(f"TF_LoadSessionFromSavedModel({export_dir})")

    def import_graph_def(self, path: str, session: bool = False) -> None:
        """Import a GraphDef as TensorFlow's C++ importer does (op registry, dtypes, cycles); ``session``
        also opens a session on it (weights come from its constants, or from restore ops a run targets)."""
        data = Path(path).read_bytes()
        buffer = self.lib.TF_NewBufferFromString(data, len(data))
        self.graph = self.lib.TF_NewGraph()
        self.lib.TF_GraphImportGraphDef(self.graph, buffer, self.lib.TF_NewImportGraphDefOptions(), self.status)
        self.check("TF_GraphImportGraphDef")
        if session:
            self.session = self.lib.TF_NewSession(self.graph, self.lib.TF_NewSessionOptions(), self.status)
            self.check("TF_NewSession")

    def close(self) -> None:
        """Free the session's tensors (its variables) before the next session loads its own."""
        if self.session:
            self.lib.TF_CloseSession(self.session, self.status)
            self.lib.TF_DeleteSession(self.session, self.status)
        if self.graph:
            self.lib.TF_DeleteGraph(self.graph)
        self.session = self.graph = None

    def operation(self, name: str) -> int:
        oper = self.lib.TF_GraphOperationByName(self.graph, name.encode())
        if not oper:
            raise RuntimeError(f"the loaded graph has no operation {name!r}")
        return oper

    def endpoint(self, tensor: str) -> TFOutput:
        op, _, port = tensor.rpartition(":")
        return TFOutput(self.operation(op), int(port))

    def run(self, feeds: dict[str, np.ndarray], fetches: list[str], targets: list[str]) -> list[np.ndarray]:
        names = list(feeds)
        inputs = (TFOutput * len(names))(*[self.endpoint(n) for n in names])
        outputs = (TFOutput * len(fetches))(*[self.endpoint(f) for f in fetches])
        opers = (ctypes.c_void_p * len(targets))(*[self.operation(t) for t in targets])
        values = (ctypes.c_void_p * len(names))(*[self.to_tensor(feeds[n]) for n in names])
        results = (ctypes.c_void_p * len(fetches))()
        self.lib.TF_SessionRun(self.session, None, inputs, values, len(names), outputs, results, len(fetches),
                               opers, len(targets), None, self.status)
        for value in values:
            self.lib.TF_DeleteTensor(value)
        self.check("TF_SessionRun")
        arrays = [self.from_tensor(t) for t in results]
        for tensor in results:
            self.lib.TF_DeleteTensor(tensor)
        return arrays

    def to_tensor(self, array: np.ndarray) -> int:
        shape = array.shape  # before ascontiguousarray, which makes a 0-d array 1-d
        dims = (ctypes.c_int64 * len(shape))(*shape)
        if array.dtype.kind in "SUO":
            flat = [x if isinstance(x, bytes) else str(x).encode() for x in array.ravel().tolist()]
            tensor = self.lib.TF_AllocateTensor(TF_STRING, dims, len(shape), TSTRING_SIZE * len(flat))
            base = self.lib.TF_TensorData(tensor)
            for k, item in enumerate(flat):
                self.lib.TF_StringInit(base + k * TSTRING_SIZE)
                self.lib.TF_StringCopy(base + k * TSTRING_SIZE, item, len(item))
            return tensor
        code = next(c for c, t in DTYPES.items() if np.dtype(t) == array.dtype)
        data = np.ascontiguousarray(array)
        tensor = self.lib.TF_AllocateTensor(code, dims, len(shape), data.nbytes)
        ctypes.memmove(self.lib.TF_TensorData(tensor), data.ctypes.data, data.nbytes)
        return tensor

    def from_tensor(self, tensor: int | None) -> np.ndarray:
        shape = tuple(self.lib.TF_Dim(tensor, d) for d in range(self.lib.TF_NumDims(tensor)))
        code, base = self.lib.TF_TensorType(tensor), self.lib.TF_TensorData(tensor)
        if code == TF_STRING:
            items = []
            for k in range(int(np.prod(shape))):
                ptr = base + k * TSTRING_SIZE
                items.append(ctypes.string_at(self.lib.TF_StringGetDataPointer(ptr), self.lib.TF_StringGetSize(ptr)))
            return np.array(items, dtype=object).reshape(shape)
        if code not in DTYPES:
            raise RuntimeError(f"output dtype {code} is not supported by the verifier")
        raw = ctypes.string_at(base, self.lib.TF_TensorByteSize(tensor))
        return np.frombuffer(raw, dtype=DTYPES[code]).reshape(shape).copy()


def _sessions(request: dict) -> list[dict]:
    """The request's sessions; the older one-session forms as one."""
    if "sessions" in request:
        return request["sessions"]
    if request.get("import_graph_def"):
        return [{"graph_def": request["import_graph_def"], "import_only": True, "runs": []}]
    return [{"export_dir": request["export_dir"], "tags": request["tags"], "runs": request.get("runs", [])}]


def _serve_session(runner: Runner, k: int, session: dict, inputs: Any, produced: dict[str, Any]) -> dict:
    """Open one session, run its runs in order (a failed run does not stop the next), close it."""
    try:
        if session.get("export_dir"):
            runner.load(session["export_dir"], session["tags"])
        else:
            runner.import_graph_def(session["graph_def"], session=not session.get("import_only"))
    except RuntimeError as err:
        runner.close()
        return {"error": str(err), "runs": []}
    errors: list[str | None] = []
    for i, run in enumerate(session["runs"]):
        feeds = {name: inputs[key] for name, key in run["feeds"].items()}
        try:
            arrays = runner.run(feeds, run["fetches"], run.get("targets", []))
        except RuntimeError as err:
            errors.append(str(err))
            continue
        errors.append(None)
        for j, array in enumerate(arrays):
            produced[f"s{k}/r{i}/{j}"] = array
    runner.close()
    return {"error": None, "runs": errors}


def serve(library: ctypes.CDLL | Exception, request_path: str) -> dict[str, Any]:
    request = json.loads(Path(request_path).read_text())
    try:
        if isinstance(library, Exception):
            raise RuntimeError(str(library))
        runner = Runner(library)
    except RuntimeError as err:
        return {"ok": False, "error": str(err), "sessions": []}
    inputs = np.load(request["inputs"], allow_pickle=True) if request.get("inputs") else {}
    produced: dict[str, Any] = {}
    sessions = [_serve_session(runner, k, s, inputs, produced) for k, s in enumerate(_sessions(request))]
    if request.get("outputs"):
        np.savez(request["outputs"], **produced)
    errors = [s["error"] for s in sessions if s["error"]] + [e for s in sessions for e in s["runs"] if e]
    return {"ok": not errors, "error": errors[0] if errors else None, "sessions": sessions}


def _load_library() -> ctypes.CDLL | Exception:
    try:
        return _library()
    except (OSError, RuntimeError) as err:
        return err


def main(request_path: str) -> int:
    """Serve one request; with "-", load the library first, then serve each request path read from stdin
    until an empty line or end of input (so the library loads while the parent prepares its questions)."""
    library = _load_library()
    paths = iter(sys.stdin.readline, "") if request_path == "-" else iter([request_path])
    ok = True
    for line in paths:
        if not line.strip():
            break  # the parent gave up before asking, or is done
        report = serve(library, line.strip())
        report["tensorflow_imported"] = "tensorflow" in sys.modules
        print(json.dumps(report), flush=True)  # the protocol: one JSON line per request, read by cpp_loader.py
        ok = ok and report["ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
