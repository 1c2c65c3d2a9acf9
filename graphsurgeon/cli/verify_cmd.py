"""Check a SavedModel the way TensorFlow Serving will meet it; exit 1 on any failure.

Lints the folder (numeric version, variables.index, assets present and listed
once, exactly one init op, serve tag and serving_default, saved_model.pb under
1 GiB, only C++ runtime ops), then loads it with TensorFlow's C++ loader in a
process that never imports the tensorflow Python package, and runs every
signature. Outputs are compared with the source model's: the one --against
names, else the one the export's recorded recipe names, with the recipe's
--set bindings and input overrides applied to it.

  graphsurgeon verify serving/enc/1                  # replays the recorded recipe against its source
  graphsurgeon verify serving/enc/1 --against model_dir --feeds sample.npz --atol probabilities=1e-4
  graphsurgeon verify serving/siamese/1 --replace-layer lambda=distance.py:abs_difference   # as given to export
"""
from __future__ import annotations

import argparse
import math

from rich.console import Console

from graphsurgeon import defaults
from graphsurgeon.cli.render import print_json, print_verify
from graphsurgeon.errors import UsageError
from graphsurgeon.formats.npz import read_npz
from graphsurgeon.verify import verify

NAME = "verify"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="SAVED_MODEL_DIR", help="a version folder, e.g. serving/model/1")
    parser.add_argument("--feeds", metavar="FILE.npz", help="input arrays keyed by input key (or SIGNATURE/KEY)")
    parser.add_argument("--against", metavar="SOURCE",
                        help="the model to compare with (default: the source the export's recorded recipe names)")
    parser.add_argument("--no-replay", action="store_true",
                        help="do not compare with the recorded source; only load and run the export")
    parser.add_argument("--signature", help="check only this signature")
    parser.add_argument("--asset-dir", help="where the source's asset files are now (as given to export)")
    parser.add_argument("--weights", metavar="PREFIX_OR_DIR",
                        help="where a checkpoint the source restores at init is now (as given to export)")
    parser.add_argument("--replace-layer", action="append", default=[], metavar="NAME=MODULE.py:FUNCTION",
                        help="as given to export: rebuild the Keras source with your FUNCTION for layer NAME "
                        "(never taken from the recorded recipe)")
    parser.add_argument("--tags", help=f"MetaGraph tags (default: {defaults.SERVE_TAG})")
    parser.add_argument("--atol", nargs="+", metavar="[KEY=]ATOL",
                        help=f"absolute tolerance, for all outputs or per output key (default {defaults.ATOL})")
    parser.add_argument("--rtol", nargs="+", metavar="[KEY=]RTOL",
                        help=f"relative tolerance, for all outputs or per output key (default {defaults.RTOL})")
    parser.add_argument("--json", action="store_true", help="print a JSON report")


def run(args: argparse.Namespace, console: Console) -> int:
    feeds = read_npz(args.feeds, "--feeds") if args.feeds else None
    tags = tuple(t for t in args.tags.split(",") if t) if args.tags else defaults.EXPORT_TAGS
    report = verify(args.directory, feeds=feeds, against=args.against, signature=args.signature, tags=tags,
                    atol=tolerance(args.atol, "--atol", defaults.ATOL),
                    rtol=tolerance(args.rtol, "--rtol", defaults.RTOL),
                    asset_dir=args.asset_dir, weights=args.weights, replay=not args.no_replay,
                    replace_layers=args.replace_layer)
    if args.json:
        print_json(console, report)
    else:
        print_verify(console, report)
    return 0 if report.ok else 1


def tolerance(values: list[str] | None, option: str, default: float) -> dict[str, float]:
    """'1e-4' for every output, 'probabilities=1e-3' (or 'SIGNATURE/KEY=...') for one."""
    out = {"": default}
    for text in values or ():
        key, sep, number = text.rpartition("=")
        try:
            value = float(number)
        except ValueError as err:
            raise UsageError(f"cannot parse {option} {text!r}: write a number or KEY=NUMBER, e.g. 1e-4") from err
        if not math.isfinite(value):
            raise UsageError(f"{option} {text!r} must be a finite number")
        out[key if sep else ""] = value
    return out
