"""Option groups several subcommands share, and turning them into library arguments."""
from __future__ import annotations

import argparse
import re

from graphsurgeon.surgery.select import InputSpec, parse_binding


def _split(values: list[str] | None) -> list[str]:
    """Accept both '--outputs a b' and '--outputs a,b' (commas inside [dims] stay)."""
    return [part for value in values or () for part in re.split(r",(?![^\[]*\])", value) if part]


def add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL",
                        help="a .pb/.pbtxt GraphDef, a checkpoint prefix, .meta file or model_dir, or a SavedModel dir")
    parser.add_argument("--tags", help="SavedModel MetaGraph tags, comma-separated (default: serve)")


def add_surgery(parser: argparse.ArgumentParser, inputs: bool) -> None:
    if inputs:
        parser.add_argument("--inputs", nargs="+", metavar="NAME[=DTYPE[DIMS]]", default=[],
                            help="tensors that become Placeholders, e.g. images_ph or images=float32[?,224,224,3]")
    parser.add_argument("--outputs", nargs="+", required=True, metavar="NAME",
                        help="nodes or node:port tensors to keep, e.g. encoder/out or IteratorGetNext:1")
    parser.add_argument("--set", nargs="+", dest="bindings", metavar="NAME=VALUE", default=[],
                        help="replace a tensor with a constant, e.g. is_training=false keep_prob=1.0")
    parser.add_argument("--init-from-initializers", action="store_true",
                        help="variables missing from the checkpoint get their own initializers' values")
    parser.add_argument("--no-strip", action="store_true",
                        help="keep Identity/CheckNumerics pass-through nodes")


def add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write (.pb or .pbtxt)")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.add_argument("--json", action="store_true", help="print a JSON report instead of tables")


def tags(args: argparse.Namespace) -> list[str] | None:
    return _split([args.tags]) if args.tags else None


def input_specs(args: argparse.Namespace) -> list[InputSpec]:
    return [InputSpec.parse(text) for text in _split(getattr(args, "inputs", []))]


def outputs(args: argparse.Namespace) -> list[str]:
    return _split(args.outputs)


def bindings(args: argparse.Namespace) -> dict[str, object]:
    return dict(parse_binding(text) for text in args.bindings)
