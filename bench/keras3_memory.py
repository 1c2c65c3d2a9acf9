"""Peak memory of exporting a .keras archive with 1 GiB of weights, against the budget.

    python bench/keras3_memory.py            # generates bench/out/keras3-1g.keras once (~1 GiB on disk)

The archive (deterministic, written with zipfile + h5py, weights stored
uncompressed as Keras writes them) is a Sequential of four Dense 8192x8192
layers: four 256 MiB kernels. Each route runs in a fresh process; peak RSS is
the wait4 rusage of that process.

  import        python -c "import tensorflow"  (the import footprint; with keras too, for reference)
  graphsurgeon  graphsurgeon export bench/out/keras3-1g.keras -o OUT

Budget: import footprint + largest single weight (256 MiB) + 256 MiB.
"""
from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np

from routes import measured

OUT = Path(__file__).resolve().parent / "out"
DIM, LAYERS = 8192, 4
ARCHIVE = OUT / "keras3-1g.keras"


def _config() -> dict:
    dense = [{"module": "keras.layers", "class_name": "Dense", "registered_name": None,
              "config": {"name": f"dense_{i}", "units": DIM, "activation": "tanh"},
              "build_config": {"input_shape": [None, DIM]}} for i in range(LAYERS)]
    first = {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
             "config": {"batch_shape": [None, DIM], "dtype": "float32", "name": "x"}}
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "big", "layers": [first, *dense]}, "build_config": {"input_shape": [None, DIM]}}


def generate() -> Path:
    if ARCHIVE.is_file():
        return ARCHIVE
    OUT.mkdir(parents=True, exist_ok=True)
    weights = OUT / "keras3-1g.weights.h5"
    rows = np.full((1024, DIM), 1e-4, np.float32)
    with h5py.File(weights, "w") as f:
        f.create_group("vars")
        for i in range(LAYERS):
            group = f.create_group(f"layers/{'dense' if i == 0 else f'dense_{i}'}/vars")  # Keras: class name, numbered
            kernel = group.create_dataset("0", (DIM, DIM), np.float32)
            for start in range(0, DIM, len(rows)):  # written in slices: the generator stays small too
                kernel[start:start + len(rows)] = rows * (i + 1)
            group.create_dataset("1", data=np.zeros(DIM, np.float32))
    tmp = ARCHIVE.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.15.0", "date_saved": "2026-11-29@00:00:00"}))
        z.writestr("config.json", json.dumps(_config()))
        z.write(weights, "model.weights.h5")
    weights.unlink()
    tmp.rename(ARCHIVE)
    return ARCHIVE


def main() -> None:
    archive = generate()
    _, import_rss, _ = measured([sys.executable, "-c", "import tensorflow"])
    _, keras_rss, _ = measured([sys.executable, "-c", "import tensorflow, keras"])
    target = OUT / "keras3-export"
    shutil.rmtree(target, ignore_errors=True)
    seconds, export_rss, ok = measured([sys.executable, "-m", "graphsurgeon", "export", str(archive), "-o",
                                        str(target)])
    largest = DIM * DIM * 4
    budget = import_rss + largest + 256 * 2**20
    mib = 2**20
    print(f"weights {LAYERS * largest / mib:.0f} MiB, largest {largest / mib:.0f} MiB")
    print(f"import tensorflow peak RSS {import_rss / mib:.0f} MiB (with keras {keras_rss / mib:.0f} MiB)")
    print(f"graphsurgeon export peak RSS {export_rss / mib:.0f} MiB in {seconds:.1f} s ({'ok' if ok else 'FAILED'})")
    print(f"budget {budget / mib:.0f} MiB: {'within' if export_rss < budget else 'OVER'}")
    shutil.rmtree(target, ignore_errors=True)


if __name__ == "__main__":
    main()
