"""Option groups the subcommands share, parsed once into a Recipe.

Every command that takes a model (inspect, audit, cut, freeze, export) adds
the same groups, so a flag means the same thing everywhere, and recipe_from()
is the one place that turns them into library values. An option left out is
None in the Recipe: the library's default (graphsurgeon/defaults.py) applies.
"""
from __future__ import annotations

import argparse
import re
from typing import Any

from graphsurgeon import defaults
from graphsurgeon.audit.sizes import parse_size
from graphsurgeon.errors import UsageError
from graphsurgeon.exporters.saved_model.signatures import METHODS
from graphsurgeon.formats.npz import read_npz  # noqa: F401  (re-exported for the commands)
from graphsurgeon.recipe import FrontEnd, Head, Recipe
from graphsurgeon.surgery.select import InputSpec, parse_binding


def split_names(values: list[str] | None) -> list[str]:
    """Accept both '--outputs a b' and '--outputs a,b' (commas inside [dims] stay)."""
    return [part for value in values or () for part in re.split(r",(?![^\[]*\])", value) if part]


def add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL",
                        help="a .pb/.pbtxt GraphDef, a checkpoint prefix, .meta file or model_dir, a SavedModel dir, "
                        "or a Keras .h5 file")
    add_source_loading(parser)
    parser.add_argument("--signature", dest="source_signatures", metavar="KEY", nargs="+",
                        help="signatures of a TF2 SavedModel to flatten together (default: every serving signature "
                        "that can be frozen)")


def add_source_loading(parser: argparse.ArgumentParser) -> None:
    """How to load the source: every command that reads a model takes these, verify included (for its source)."""
    parser.add_argument("--tags", help=f"SavedModel MetaGraph tags, comma-separated (default: {defaults.SERVE_TAG})")
    parser.add_argument("--weights", metavar="PREFIX_OR_DIR",
                        help="where a checkpoint the graph restores at init (a TF-Hub module's) is now, "
                        "or the checkpoint of a .meta shipped without one")
    keras = parser.add_argument_group("Keras sources")
    keras.add_argument("--architecture", metavar="MODEL.json", help="the architecture of a weights-only .h5 file")
    keras.add_argument("--custom-objects", metavar="MODULE.py", help="a Python file defining custom layers")
    keras.add_argument("--unsafe-lambda", action="store_true",
                       help="allow Lambda layers, whose stored bytecode runs when loaded (trusted files only)")
    keras.add_argument("--replace-layer", action="append", default=[], metavar="NAME=MODULE.py:FUNCTION",
                       help="trace layer NAME (e.g. a Lambda) with your FUNCTION instead; its stored code never runs")


def add_surgery(parser: argparse.ArgumentParser, inputs: bool = True, outputs_required: bool = True) -> None:
    group = parser.add_argument_group("what to keep")
    if inputs:
        group.add_argument("--inputs", nargs="+", metavar="NAME[=DTYPE[DIMS]]", default=[],
                           help="tensors that become Placeholders, e.g. images_ph or images=float32[?,224,224,3]")
    group.add_argument("--outputs", nargs="+", required=outputs_required, metavar="NAME", default=[],
                       help="nodes or node:port tensors to keep, e.g. encoder/out or IteratorGetNext:1"
                       + ("" if outputs_required else " (default: the source signatures' outputs)"))
    group.add_argument("--set", nargs="+", dest="bindings", metavar="NAME=VALUE", default=[],
                       help="replace a tensor with a constant, e.g. is_training=false keep_prob=1.0")
    group.add_argument("--init-from-initializers", action="store_true",
                       help="variables missing from the checkpoint get their own initializers' values")
    group.add_argument("--no-strip", action="store_true", help="keep Identity/CheckNumerics pass-through nodes")
    group.add_argument("--stochastic", action="store_true",
                       help="the model samples on purpose (a sampler, MC dropout): keep random ops and switches "
                       "defaulting to training behaviour without a warning")
    batch = group.add_mutually_exclusive_group()
    batch.add_argument("--dynamic-batch", dest="batch_policy", action="store_const", const="dynamic",
                       help="every input accepts any batch (default: only inputs cut at an iterator or queue)")
    batch.add_argument("--static-batch", dest="batch_policy", action="store_const", const="static",
                       help="every input keeps the batch dimension the graph gives it, even an iterator's")


def add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="where to write: a .pb file, or .pbtxt for text")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.add_argument("--json", action="store_true", help="print a JSON report instead of tables")


def add_saved_model(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("SavedModel export")
    group.add_argument("--version", type=int, help="version folder number (default: the next integer)")
    group.add_argument("--keys", nargs="+", default=[], metavar="NAME=KEY",
                       help="signature keys for inputs/outputs, e.g. images_ph=images encoder/out=scores")
    group.add_argument("--method", choices=sorted(METHODS), help=f"serving_default's method (default {defaults.METHOD})")
    add_export_tags(group)
    group.add_argument("--inline-limit", metavar="SIZE",
                       help=f"constants this size or larger go to variables/ (default {defaults.INLINE_LIMIT_TEXT})")
    add_asset_dir(group)
    group.add_argument("--asset", nargs="+", default=[], dest="extra_assets", metavar="FILE",
                       help="more files to ship in assets/")
    group.add_argument("--no-load-check", action="store_true",
                       help="skip loading the staged export in TensorFlow's C++ loader before publishing "
                            "(it is only imported, without weights, when variables/ is 1 GiB or more)")
    group.add_argument("--warmup", metavar="FILE.npz",
                       help="sample inputs by serving_default key; each row becomes a warmup request (at most 1000)")
    front = parser.add_argument_group("Serving front and back ends")
    front.add_argument("--image-input", metavar="NAME",
                       help="take encoded images (JPEG/PNG bytes, a [None] string batch) where NAME takes pixels")
    front.add_argument("--image-key", help=f"signature key of the image input (default {defaults.IMAGE_KEY}, "
                       "for REST's {\"b64\": ...})")
    front.add_argument("--normalize", metavar="PRESET",
                       help="pixel range: centered (-0.5..0.5) | inception (-1..1) | unit (0..1, default) | raw (0..255) "
                       "| caffe, or --normalize=-1,1 style ranges")
    front.add_argument("--mean", type=float, nargs="+", help="per-channel mean to subtract from 0-255 pixels")
    front.add_argument("--std", type=float, nargs="+", help="per-channel divisor after --mean")
    front.add_argument("--channels-first", action="store_true", help="the network takes [N,C,H,W] images")
    front.add_argument("--top-k", type=int, metavar="K",
                       help="add a classification head: outputs classes and probabilities of the top K")
    front.add_argument("--top-k-output", metavar="NAME",
                       help="the logits or probabilities output the head reads (default: the only output)")
    front.add_argument("--labels", metavar="FILE", help="with --top-k: one label per line, output as labels")


def add_asset_dir(group: argparse._ActionsContainer) -> None:
    group.add_argument("--asset-dir", help="where asset files are now, when the model names them by old paths")


def add_export_tags(group: argparse._ActionsContainer) -> None:
    group.add_argument("--export-tags", help=f"tags of the exported MetaGraph (default: {defaults.SERVE_TAG})")


def recipe_from(args: argparse.Namespace) -> Recipe:
    """The one place command-line options become library values; absent options stay None."""
    def opt(name: str) -> Any:
        return getattr(args, name, None)

    return Recipe(
        tags=tuple(split_names([opt("tags")])) if opt("tags") else None,
        signatures=tuple(opt("source_signatures")) if opt("source_signatures") else None,
        architecture=opt("architecture"), custom_objects=opt("custom_objects"), weights=opt("weights"),
        unsafe_lambda=True if opt("unsafe_lambda") else None,
        replace_layers=tuple(opt("replace_layer") or ()) or None,
        inputs=tuple(InputSpec.parse(t) for t in split_names(opt("inputs"))) or None,
        outputs=tuple(split_names(opt("outputs"))) or None,
        bindings=dict(parse_binding(t) for t in opt("bindings") or ()) or None,
        init_from_initializers=True if opt("init_from_initializers") else None,
        strip=False if opt("no_strip") else None,
        batch=opt("batch_policy"),
        stochastic=True if opt("stochastic") else None,
        asset_dir=opt("asset_dir"), extra_assets=tuple(opt("extra_assets") or ()) or None,
        front_end=_front_end(args), head=_head(args),
        keys=dict(_pair(t) for t in opt("keys") or ()) or None, method=opt("method"), warmup=opt("warmup"),
        inline_limit=parse_size(opt("inline_limit")) if opt("inline_limit") else None,
        export_tags=tuple(t for t in opt("export_tags").split(",") if t) if opt("export_tags") else None,
    )


def _front_end(args: argparse.Namespace) -> FrontEnd | None:
    if not getattr(args, "image_input", None):
        return None
    return FrontEnd(args.image_input, args.image_key, args.normalize,
                    tuple(args.mean) if args.mean else None, tuple(args.std) if args.std else None,
                    True if args.channels_first else None)


def _head(args: argparse.Namespace) -> Head | None:
    if getattr(args, "top_k", None) is None:
        if getattr(args, "labels", None):
            raise UsageError("--labels goes with --top-k K: labels name the top K classes")
        return None
    return Head(args.top_k, args.top_k_output, args.labels)


def _pair(text: str) -> tuple[str, str]:
    name, sep, key = text.partition("=")
    if not sep or not name or not key:
        raise UsageError(f"cannot parse --keys {text!r}: write NAME=KEY, e.g. images_ph=images")
    return name, key
