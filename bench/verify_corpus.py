"""Plain `graphsurgeon verify OUT/1` on every corpus model the tests export, with the recipes the tests use.

    python bench/verify_corpus.py [CORPUS_DIR] [--only NAME ...]

Each model is exported by `graphsurgeon export` (in a fresh process, as a user would) into a temporary
folder, then checked by `graphsurgeon verify OUT/1 --json` with no other flag: verify replays the
recorded recipe against the source. Prints one row per model: the export's recipe, the verdict, and
the first failure when there is one (a Markdown table for bench/README.md).
"""
from __future__ import annotations

import argparse
import os
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

# name -> (source under the corpus, export options): the recipes of tests/test_corpus_*.py,
# tests/exporters/test_corpus_reexport.py and tests/loaders/test_tf2_saved_model.py, as export options.
CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "serving_half_plus_two_cpu": ("serving_half_plus_two_cpu/00000123", ()),
    "serving_half_plus_two_mkl": ("serving_half_plus_two_mkl/00000123", ()),
    "serving_half_plus_two_with_config": ("serving_half_plus_two_with_config/00000123", ()),
    "serving_half_plus_two_2_versions": ("serving_half_plus_two_2_versions/00000123", ()),
    "serving_matrix_half_plus_two": ("serving_matrix_half_plus_two/1", ()),
    "serving_half_plus_two_tf2_cpu": ("serving_half_plus_two_tf2_cpu/00000123", ()),
    "serving_session_bundle_half_plus_two": ("serving_session_bundle_half_plus_two/00000123/export.meta",
                                             ("--inputs", "x", "--outputs", "y")),
    "tf2onnx_regression_savedmodel": ("tf2onnx_regression_savedmodel", ()),
    "tf2onnx_redundant_inputs_savedmodel": ("tf2onnx_redundant_inputs_savedmodel", ()),
    "tf2onnx_regression_ckpt": ("tf2onnx_regression_ckpt/model.meta", ("--inputs", "X", "--outputs", "pred")),
    "tf2onnx_ae0 (encoder)": ("tf2onnx_ae0/frozen.pb", ("--inputs", "X", "--outputs", "encode/dense_1/Sigmoid")),
    "tf2onnx_ae0 (decoder)": ("tf2onnx_ae0/frozen.pb", ("--inputs", "encode/dense_1/Sigmoid", "--outputs", "output")),
    "tf2onnx_lstm": ("tf2onnx_lstm/frozen.pb", ("--inputs", "X", "--outputs", "output", "--set", "keep_prob=1.0")),
    "tf2onnx_gru": ("tf2onnx_gru/frozen.pb", ("--inputs", "X", "--outputs", "output", "--set", "keep_prob=1.0")),
    "rust_regression_savedmodel_tf1": ("rust_regression_savedmodel_tf1", ("--tags", "train,serve")),
    "rust_regression_savedmodel_tf2": ("rust_regression_savedmodel_tf2", ()),
    "rust_regression_graphdef": ("rust_regression_graphdef/model.pb",
                                 ("--inputs", "x", "--outputs", "add", "--init-from-initializers")),
    "tfnet_meta_cond_test": ("tfnet_meta_cond_test/cond_test.meta", ("--outputs", "cond/Merge")),
    "tfnet_meta_lstm_crf_ner": ("tfnet_meta_lstm_crf_ner/lstm_crf_ner.meta",
                                ("--outputs", "proj/Reshape_1", "--init-from-initializers")),
    "tfnet_meta_lstm_crf_ner (dropout bound)": ("tfnet_meta_lstm_crf_ner/lstm_crf_ner.meta",
                                                ("--outputs", "proj/Reshape_1", "--init-from-initializers",
                                                 "--set", "dropout=1.0")),
    "tfnet_meta_kmeans": ("tfnet_meta_kmeans/kmeans.meta", ("--outputs", "cond/Merge", "--init-from-initializers")),
    "tfnet_keras_lstm_sequential": ("tfnet_keras_lstm_sequential", ()),
    "tfx_keras_serving": ("tfx_keras_serving", ()),
    "tfx_estimator_export": ("tfx_estimator_export/1646034756", ()),
    "guesslang_2_2_1_savedmodel": ("guesslang_2_2_1_savedmodel/model", ()),
    "guesslang_0_9_3_contrib_learn_ckpt": ("guesslang_0_9_3_contrib_learn_ckpt/model/model.ckpt-40198.meta",
                                           ("--inputs", "const_features=float64[?,1024]", "--outputs",
                                            "multi_class_head/predictions/probabilities")),
    "tf1_ctc_lstm_ckpt": ("tf1_ctc_lstm_ckpt/checkpoints.meta",
                          ("--inputs", "Placeholder:0", "Placeholder_4:0", "--outputs", "CTCGreedyDecoder:0",
                           "CTCGreedyDecoder:1", "CTCGreedyDecoder:2", "CTCGreedyDecoder:3")),
    "kws_ds_cnn_s_frozen (front end)": ("kws_ds_cnn_s_frozen/Pretrained_models/DS_CNN/DS_CNN_S.pb",
                                        ("--inputs", "wav_data", "--outputs", "Mfcc")),
    "kws_ds_cnn_s_frozen (classifier)": ("kws_ds_cnn_s_frozen/Pretrained_models/DS_CNN/DS_CNN_S.pb",
                                         ("--inputs", "Mfcc:0", "--outputs", "labels_softmax")),
    "kws_lstm_s_frozen (classifier)": ("kws_lstm_s_frozen/Pretrained_models/LSTM/LSTM_S.pb",
                                       ("--inputs", "Mfcc:0", "--outputs", "labels_softmax")),
    "faceclf_gender_mini_xception": ("faceclf_gender_mini_xception/gender_mini_XCEPTION.21-0.95.hdf5", ()),
}


def run(args: list[str]) -> tuple[int, str, str, float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "graphsurgeon", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - started


def verdict(name: str, root: Path, work: Path, cases: dict[str, tuple[str, tuple[str, ...]]] = CASES,
            verify_options: tuple[str, ...] = ()) -> dict:
    """Export case ``name`` (its source under ``root``), then `verify OUT/1 --json` plus ``verify_options``."""
    source, options = cases[name]
    out = work / name.replace(" ", "_").replace("(", "").replace(")", "")
    code, _, err, _ = run(["export", str(root / source), *options, "-o", str(out)])
    row = {"model": name, "recipe": " ".join(options) or "(none)"}
    if code != 0:
        return {**row, "verdict": "export failed", "why": err.strip().splitlines()[-1] if err.strip() else ""}
    code, stdout, err, seconds = run(["verify", str(out / "1"), "--json", *verify_options])
    if code not in (0, 1) or not stdout.strip():
        return {**row, "verdict": "error", "why": err.strip().splitlines()[-1] if err.strip() else "", "s": seconds}
    report = json.loads(stdout)
    return {**row, "verdict": "verified" if report["ok"] else "FAIL", "why": _why(report), "s": seconds}


def _why(report: dict) -> str:
    """The first failure, else what is worth knowing about a pass (a note, signatures compared)."""
    for finding in report["findings"]:
        if not finding["ok"]:
            return f"{finding['check']}: {finding['message']}"
    for sig in report["signatures"]:
        if not sig["ok"]:
            problem = sig["note"] or next((o["problem"] for o in sig["outputs"] if not o["ok"]), "")
            return f"{sig['key']}: {problem}"
    notes = [n for sig in report["signatures"] for n in sig["notes"]]
    notes += [n for sig in report["signatures"] for o in sig["outputs"] for n in o["notes"]]
    compared = sum(1 for sig in report["signatures"] for o in sig["outputs"] if o["max_abs_error"] is not None)
    return f"{len(report['signatures'])} signature(s), {compared} output(s) compared" + \
        (f"; {notes[0]}" if notes else "")


def print_table(root: Path, cases: dict[str, tuple[str, tuple[str, ...]]], names: list[str],
                verify_options: dict[str, tuple[str, ...]] | None = None) -> None:
    print("| model | export options | verdict | verify s | why |\n|---|---|---|---:|---|")
    with tempfile.TemporaryDirectory(prefix="graphsurgeon-verify-") as work:
        for name in names:
            row = verdict(name, root, Path(work), cases, (verify_options or {}).get(name, ()))
            why = row["why"].replace("|", "/")[:300]
            print(f"| {row['model']} | `{row['recipe']}` | {row['verdict']} | {row.get('s', 0):.1f} | {why} |",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--only", nargs="+", choices=sorted(CASES))
    args = parser.parse_args()
    print_table(args.corpus, CASES, args.only or list(CASES))


if __name__ == "__main__":
    main()
