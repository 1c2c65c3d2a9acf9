"""Option groups several subcommands share, and turning them into library arguments."""
from __future__ import annotations

import argparse
import pickle
import re
import zipfile

import numpy as np

from graphsurgeon.errors import UsageError
from graphsurgeon.exporters.saved_model.signatures import METHODS
from graphsurgeon.surgery.select import InputSpec, parse_binding


def split_names(values: list[str] | None) -> list[str]:
    return _split(values)


def _split(values: list[str] | None) -> list[str]:
    """Accept both '--outputs a b' and '--outputs a,b' (commas inside [dims] stay)."""
    return [part for value in values or () for part in re.split(r",(?![^\[]*\])", value) if part]


def add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL",
                        help="a .pb/.pbtxt GraphDef, a checkpoint prefix, .meta file or model_dir, or a SavedModel dir")
    parser.add_argument("--tags", help="SavedModel MetaGraph tags, comma-separated (default: serve)")
    parser.add_argument("--signature", dest="source_signature", metavar="KEY",
                        help="the signature of a TF2 SavedModel to flatten (default: serving_default)")
    keras = parser.add_argument_group("Keras .h5 sources")
    keras.add_argument("--architecture", metavar="MODEL.json", help="the architecture of a weights-only .h5 file")
    keras.add_argument("--custom-objects", metavar="MODULE.py", help="a Python file defining custom layers")
    keras.add_argument("--unsafe-lambda", action="store_true",
                       help="allow Lambda layers, whose stored bytecode runs when loaded (trusted files only)")


def load_model(args: argparse.Namespace, trace: bool = True):
    """The MODEL argument loaded with the options every command shares."""
    from graphsurgeon.loaders import load
    from graphsurgeon.loaders.keras_h5 import custom_objects_from

    return load(args.model, tags=tags(args), trace=trace, signature=args.source_signature,
                architecture=args.architecture,
                unsafe_lambda=args.unsafe_lambda, custom_objects=custom_objects_from(args.custom_objects))


def add_surgery(parser: argparse.ArgumentParser, inputs: bool, outputs_required: bool = True) -> None:
    if inputs:
        parser.add_argument("--inputs", nargs="+", metavar="NAME[=DTYPE[DIMS]]", default=[],
                            help="tensors that become Placeholders, e.g. images_ph or images=float32[?,224,224,3]")
    parser.add_argument("--outputs", nargs="+", required=outputs_required, metavar="NAME", default=[],
                        help="nodes or node:port tensors to keep, e.g. encoder/out or IteratorGetNext:1"
                        + ("" if outputs_required else " (default: the source signatures' outputs)"))
    parser.add_argument("--set", nargs="+", dest="bindings", metavar="NAME=VALUE", default=[],
                        help="replace a tensor with a constant, e.g. is_training=false keep_prob=1.0")
    parser.add_argument("--init-from-initializers", action="store_true",
                        help="variables missing from the checkpoint get their own initializers' values")
    parser.add_argument("--no-strip", action="store_true",
                        help="keep Identity/CheckNumerics pass-through nodes")


def add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="where to write: a .pb/.pbtxt file, or a base directory with --format saved_model")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.add_argument("--json", action="store_true", help="print a JSON report instead of tables")


def add_saved_model(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("SavedModel export")
    group.add_argument("--version", type=int, help="version folder number (default: the next integer)")
    group.add_argument("--keys", nargs="+", default=[], metavar="NAME=KEY",
                       help="signature keys for inputs/outputs, e.g. images_ph=images encoder/out=scores")
    group.add_argument("--method", choices=sorted(METHODS), default="predict", help="serving_default's method")
    group.add_argument("--export-tags", default="serve", help="tags of the exported MetaGraph (default: serve)")
    group.add_argument("--inline-limit", default="1KiB", metavar="SIZE",
                       help="constants this size or larger go to variables/ (default 1KiB)")
    group.add_argument("--asset-dir", help="where asset files are now, when the model names them by old paths")
    group.add_argument("--asset", nargs="+", default=[], dest="extra_assets", metavar="FILE",
                       help="more files to ship in assets/")
    group.add_argument("--image-input", metavar="NAME",
                       help="take encoded images (JPEG/PNG bytes, a [None] string batch) where NAME takes pixels")
    group.add_argument("--image-key", default="image_bytes",
                       help="signature key of the image input (default image_bytes, for REST's {\"b64\": ...})")
    group.add_argument("--normalize", metavar="PRESET", help="pixel range: centered (-0.5..0.5) | inception (-1..1) | unit (0..1, default) | raw (0..255) "
                       "| caffe, or --normalize=-1,1 style ranges")
    group.add_argument("--mean", type=float, nargs="+", help="per-channel mean to subtract from 0-255 pixels")
    group.add_argument("--std", type=float, nargs="+", help="per-channel divisor after --mean")
    group.add_argument("--channels-first", action="store_true", help="the network takes [N,C,H,W] images")
    group.add_argument("--warmup", metavar="FILE.npz",
                       help="sample inputs by serving_default key; each row becomes a warmup request (at most 1000)")
    group.add_argument("--top-k", type=int, metavar="K",
                       help="add a classification head: outputs classes and probabilities of the top K")
    group.add_argument("--top-k-output", metavar="NAME",
                       help="the logits or probabilities output the head reads (default: the only output)")
    group.add_argument("--labels", metavar="FILE", help="with --top-k: one label per line, output as labels")


def read_npz(path: str, option: str) -> dict[str, np.ndarray]:
    """Sample arrays from an .npz file (numpy.savez); string inputs are object arrays, hence allow_pickle."""
    try:
        with np.load(path, allow_pickle=True) as data:
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive")
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise UsageError(f"cannot read {option} {path}: {err}; give an .npz file written by numpy.savez") from err


def tags(args: argparse.Namespace) -> list[str] | None:
    return _split([args.tags]) if args.tags else None


def input_specs(args: argparse.Namespace) -> list[InputSpec]:
    return [InputSpec.parse(text) for text in _split(getattr(args, "inputs", []))]


def outputs(args: argparse.Namespace) -> list[str]:
    return _split(args.outputs)


def bindings(args: argparse.Namespace) -> dict[str, object]:
    return dict(parse_binding(text) for text in args.bindings)
