"""Load a SavedModel with TensorFlow's C++ loader, as TensorFlow Serving does, and run tensors.

Runs as a script in its own process and never imports the tensorflow Python
package (or graphsurgeon): only ctypes, numpy and the C API that ships inside
the TensorFlow wheel (TF_LoadSessionFromSavedModel in libtensorflow_cc.so.2).

    python capi_runner.py REQUEST.json
    python capi_runner.py -        # load the library now, read REQUEST.json's path from stdin

REQUEST.json: {"export_dir": ..., "tags": ["serve"], "inputs": "in.npz", "outputs": "out.npz",
               "runs": [{"feeds": {"x:0": "key in in.npz"}, "fetches": ["y:0"]}]}
          or {"import_graph_def": "graph.pb"}: only import a GraphDef (no weights, no session).
Writes out.npz with arrays "run{i}/{j}" for fetch j of run i, and prints one JSON
line: {"ok": true, "tensorflow_imported": false} or {"ok": false, "error": "..."}.
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
DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64,
          10: np.bool_, 17: np.uint16, 19: np.float16, 22: np.uint32, 23: np.uint64}
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
        "TF_LoadSessionFromSavedModel": ([vp, vp, cp, ctypes.POINTER(cp), i, vp, vp, vp], vp),
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

    def import_graph_def(self, path: str) -> None:
        """Import a GraphDef as TensorFlow's C++ importer does (op registry, dtypes, cycles), without weights."""
        data = Path(path).read_bytes()
        buffer = self.lib.TF_NewBufferFromString(data, len(data))
        self.lib.TF_GraphImportGraphDef(self.lib.TF_NewGraph(), buffer, self.lib.TF_NewImportGraphDefOptions(),
                                        self.status)
        self.check("TF_GraphImportGraphDef")

    def endpoint(self, tensor: str) -> TFOutput:
        op, _, port = tensor.rpartition(":")
        oper = self.lib.TF_GraphOperationByName(self.graph, op.encode())
        if not oper:
            raise RuntimeError(f"the loaded graph has no operation {op!r}")
        return TFOutput(oper, int(port))

    def run(self, feeds: dict[str, np.ndarray], fetches: list[str]) -> list[np.ndarray]:
        names = list(feeds)
        inputs = (TFOutput * len(names))(*[self.endpoint(n) for n in names])
        values = (ctypes.c_void_p * len(names))(*[self.to_tensor(feeds[n]) for n in names])
        outputs = (TFOutput * len(fetches))(*[self.endpoint(f) for f in fetches])
        results = (ctypes.c_void_p * len(fetches))()
        self.lib.TF_SessionRun(self.session, None, inputs, values, len(names), outputs, results, len(fetches),
                               None, 0, None, self.status)
        for value in values:
            self.lib.TF_DeleteTensor(value)
        self.check("TF_SessionRun")
        arrays = [self.from_tensor(t) for t in results]
        for tensor in results:
            self.lib.TF_DeleteTensor(tensor)
        return arrays

    def to_tensor(self, array: np.ndarray) -> int:
        dims = (ctypes.c_int64 * array.ndim)(*array.shape)
        if array.dtype.kind in "SUO":
            flat = [x if isinstance(x, bytes) else str(x).encode() for x in array.ravel().tolist()]
            tensor = self.lib.TF_AllocateTensor(TF_STRING, dims, array.ndim, TSTRING_SIZE * len(flat))
            base = self.lib.TF_TensorData(tensor)
            for k, item in enumerate(flat):
                self.lib.TF_StringInit(base + k * TSTRING_SIZE)
                self.lib.TF_StringCopy(base + k * TSTRING_SIZE, item, len(item))
            return tensor
        code = next(c for c, t in DTYPES.items() if np.dtype(t) == array.dtype)
        array = np.ascontiguousarray(array)
        tensor = self.lib.TF_AllocateTensor(code, dims, array.ndim, array.nbytes)
        ctypes.memmove(self.lib.TF_TensorData(tensor), array.ctypes.data, array.nbytes)
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


def main(request_path: str) -> int:
    """Serve one request; with "-", load the library first, then read the request's path from stdin
    (so the library loads while the parent is still writing what it will ask about)."""
    library: ctypes.CDLL | Exception | None = None
    if request_path == "-":
        try:
            library = _library()
        except (OSError, RuntimeError) as err:
            library = err
        request_path = sys.stdin.readline().strip()
        if not request_path:
            return 0  # the parent gave up before asking
    request = json.loads(Path(request_path).read_text())
    try:
        if isinstance(library, Exception):
            raise RuntimeError(str(library))
        runner = Runner(library or _library())
        if request.get("import_graph_def"):
            runner.import_graph_def(request["import_graph_def"])
            request = {**request, "runs": []}
        else:
            runner.load(request["export_dir"], request["tags"])
        inputs = np.load(request["inputs"], allow_pickle=True) if request.get("inputs") else {}
        produced: dict[str, Any] = {}
        for i, run in enumerate(request["runs"]):
            feeds = {name: inputs[key] for name, key in run["feeds"].items()}
            for j, array in enumerate(runner.run(feeds, run["fetches"])):
                produced[f"run{i}/{j}"] = array
        if request.get("outputs"):
            np.savez(request["outputs"], **produced)
        report: dict[str, Any] = {"ok": True}
    except RuntimeError as err:
        report = {"ok": False, "error": str(err)}
    report["tensorflow_imported"] = "tensorflow" in sys.modules
    print(json.dumps(report))  # the child's protocol: one JSON line on stdout, read by cpp_loader.py
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
