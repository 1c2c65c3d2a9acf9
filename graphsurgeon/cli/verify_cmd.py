"""Check a SavedModel the way TensorFlow Serving will meet it; exit 1 on any failure.

Lints the folder (numeric version, variables.index, assets present and listed
once, exactly one init op, serve tag and serving_default, saved_model.pb under
1 GiB, only C++ runtime ops), then loads it with TensorFlow's C++ loader in a
process that never imports the tensorflow Python package, runs its warmup
requests and every signature: twice on the same inputs (outputs that differ
are stochastic), and at two batch sizes when the batch is free. Outputs are
compared with the source model's: the one --against names, else the one the
export's recorded recipe names, run as the same cut with the recipe's --set
bindings and batch policy. Inputs verify invents have the signature's rank,
batch 2 (then 3), sizes from the source or a shape search, and values the
graph consumes (ids below a table's size, a vocabulary's words, tf.Examples,
images, audio); the report says what it invented and why (--save-feeds keeps
them). An output with zero elements, or a signature that cannot run, fails.

The source is loaded with the same options as export (--tags, --weights,
--architecture, --custom-objects, --replace-layer, --unsafe-lambda,
--asset-dir); those that run code are never taken from the record.

  graphsurgeon verify serving/enc/1                  # replays the recorded recipe against its source
  graphsurgeon verify serving/enc/1 --against model_dir --feeds sample.npz --atol probabilities=1e-4
  graphsurgeon verify serving/siamese/1 --replace-layer lambda=distance.py:abs_difference   # as given to export
"""
from __future__ import annotations

import argparse
import math

from rich.console import Console

from graphsurgeon import defaults
from graphsurgeon.cli import options
from graphsurgeon.cli.render import print_json, print_verify
from graphsurgeon.errors import UsageError
from graphsurgeon.formats.npz import read_npz
from graphsurgeon.verify import verify

NAME = "verify"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="SAVED_MODEL_DIR", help="a version folder, e.g. serving/model/1")
    parser.add_argument("--feeds", metavar="FILE.npz", help="input arrays keyed by input key (or SIGNATURE/KEY)")
    parser.add_argument("--save-feeds", metavar="FILE.npz",
                        help="write the inputs verify ran (as SIGNATURE/KEY), to repeat the run with --feeds")
    parser.add_argument("--against", metavar="SOURCE",
                        help="the model to compare with (default: the source the export's recorded recipe names)")
    parser.add_argument("--no-replay", action="store_true",
                        help="do not compare with the recorded source; only load and run the export")
    parser.add_argument("--signature", help="check only this signature of the export")
    options.add_source_loading(parser)  # the source's, as given to export: code-running ones never from the record
    options.add_asset_dir(parser)
    options.add_export_tags(parser)
    parser.add_argument("--atol", nargs="+", metavar="[KEY=]ATOL",
                        help=f"absolute tolerance, for all outputs or per output key (default {defaults.ATOL})")
    parser.add_argument("--rtol", nargs="+", metavar="[KEY=]RTOL",
                        help=f"relative tolerance, for all outputs or per output key (default {defaults.RTOL})")
    parser.add_argument("--allow-empty", nargs="*", metavar="KEY",
                        help="accept outputs with zero elements (these keys, or every output without a key)")
    parser.add_argument("--json", action="store_true", help="print a JSON report")


def run(args: argparse.Namespace, console: Console) -> int:
    feeds = read_npz(args.feeds, "--feeds") if args.feeds else None
    recipe = options.recipe_from(args)
    report = verify(args.directory, feeds=feeds, against=args.against, signature=args.signature, source=recipe,
                    export_tags=recipe.export_tags, atol=tolerance(args.atol, "--atol", defaults.ATOL),
                    rtol=tolerance(args.rtol, "--rtol", defaults.RTOL), replay=not args.no_replay,
                    allow_empty=_allow_empty(args.allow_empty), save_feeds=args.save_feeds)
    if args.json:
        print_json(console, report)
    else:
        print_verify(console, report)
    return 0 if report.ok else 1


def _allow_empty(keys: list[str] | None) -> bool | list[str]:
    if keys is None:
        return False
    return keys or True


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
