"""Plain `graphsurgeon verify OUT/1` on the generated fixtures, exported as their tests export them.

    python bench/verify_fixtures.py [FIXTURES_DIR] [--only NAME ...]

Like verify_corpus.py, for fixtures/build.py's models (default: fixtures/generated). An export that
needed an option that runs code (--custom-objects, --replace-layer) gets the same option in verify:
verify never takes those from the record. The verify fixtures with a defect (fixtures/verify_cases.py)
are left out: tests/verify/test_catches.py shows each failing, naming its cause.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from verify_corpus import print_table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "generated"
CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "encoder_decoder (encoder)": ("encoder_decoder", ("--inputs", "images_ph", "--outputs", "encoder/out")),
    "encoder_decoder (PNG bytes in)": ("encoder_decoder", ("--outputs", "decoder/out")),
    "encoder_decoder (--image-input)": ("encoder_decoder", ("--image-input", "images_ph", "--outputs", "encoder/out")),
    "bn_dropout": ("bn_dropout", ("--inputs", "x", "--outputs", "logits", "--set", "is_training=false",
                                  "keep_prob=1.0")),
    "resource_vars": ("resource_vars", ("--inputs", "ids", "--outputs", "scores")),
    "latent_search": ("latent_search/model.ckpt-1", ("--inputs", "query", "--outputs", "filename", "best_index",
                                                     "--asset-dir", "DATA")),
    "latent_search/article_export": ("latent_search/article_export/1", ()),
    "resnet_estimator": ("resnet_estimator", ("--inputs", "IteratorGetNext:0", "--outputs", "logits")),
    "fixed_batch": ("fixed_batch", ("--inputs", "x=float32[?,3]", "--outputs", "y")),
    "iterator_batch": ("iterator_batch", ("--inputs", "IteratorGetNext", "--outputs", "prediction")),
    "partitioned_embedding": ("partitioned_embedding", ("--inputs", "ids", "--outputs", "scores")),
    "partitioned_single": ("partitioned_single", ("--inputs", "x", "--outputs", "probabilities")),
    "hub_module (restored at init)": ("hub_module/hub_graph.meta", ("--inputs", "x", "--outputs", "embedding",
                                                                    "--weights", "HUB")),
    "latent_search_meta (no checkpoint)": ("latent_search_meta/latent_search.meta",
                                           ("--inputs", "query", "--outputs", "best_index", "filename",
                                            "--asset-dir", "META_DATA")),
    "keras/planet.h5": ("keras/planet.h5", ()),
    "keras/planet_weights.h5": ("keras/planet_weights.h5", ("--architecture", "ARCH")),
    "keras/custom_layer.h5": ("keras/custom_layer.h5", ("--custom-objects", "CUSTOM2")),
    "keras3/cnn.keras": ("keras3/cnn.keras", ()),
    "keras3/cnn.h5": ("keras3/cnn.h5", ()),
    "keras3/two_heads.keras": ("keras3/two_heads.keras", ()),
    "keras3/lookup.keras": ("keras3/lookup.keras", ()),
    "keras3/int_lookup.keras": ("keras3/int_lookup.keras", ()),
    "keras3/text.keras": ("keras3/text.keras", ()),
    "keras3/subclassed.keras": ("keras3/subclassed.keras", ("--custom-objects", "CUSTOM3")),
    "tf2/multi_signature": ("tf2/multi_signature", ()),
    "verify/scalars": ("verify/scalars/model.ckpt-1", ("--outputs", "y")),
    "verify/strided.pb": ("verify/strided.pb", ("--inputs", "images", "--outputs", "logits")),
    "verify/cropped.pb": ("verify/cropped.pb", ("--inputs", "signal", "--outputs", "y")),
    "verify/custom_op": ("verify/custom_op/1", ("--outputs", "y")),
    "verify/dequantize.pb": ("verify/dequantize.pb", ("--inputs", "x", "--outputs", "y")),
    "verify/split_port.pb": ("verify/split_port.pb", ("--inputs", "split:1", "--outputs", "y")),
    "verify/domains.pb": ("verify/domains.pb", ("--inputs", "ids", "label", "flag", "--outputs", "pooled",
                                                "onehot", "picked")),
    "verify/old_dense.pb": ("verify/old_dense.pb", ("--inputs", "x", "--outputs", "y")),
    "verify/keras/activation.h5": ("verify/keras/activation.h5", ("--custom-objects", "ACTIVATION")),
    "verify/keras/layer.keras": ("verify/keras/layer.keras", ("--custom-objects", "LAYER")),
}


def _placed(root: Path) -> tuple[dict[str, tuple[str, tuple[str, ...]]], dict[str, tuple[str, ...]]]:
    """The cases with their file options under ``root``, and the code-running options verify must be given."""
    files = {"DATA": root / "latent_search" / "data", "ARCH": root / "keras" / "planet.json",
             "HUB": root / "hub_module" / "module_variables", "META_DATA": root / "latent_search_meta" / "data",
             "CUSTOM2": root / "keras" / "custom_layer.py", "CUSTOM3": root / "keras3" / "subclassed_model.py",
             "ACTIVATION": root / "verify" / "keras" / "activation.py", "LAYER": root / "verify" / "keras" / "layer.py"}
    cases, verify_options = {}, {}
    for name, (source, options) in CASES.items():
        placed = tuple(str(files.get(o, o)) for o in options)
        cases[name] = (source, placed)
        if "--custom-objects" in options:
            verify_options[name] = ("--custom-objects", placed[placed.index("--custom-objects") + 1])
    return cases, verify_options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fixtures", nargs="?", type=Path, default=FIXTURES)
    parser.add_argument("--only", nargs="+", choices=sorted(CASES))
    args = parser.parse_args()
    cases, verify_options = _placed(args.fixtures)
    print_table(args.fixtures, cases, args.only or list(CASES), verify_options)


if __name__ == "__main__":
    main()
