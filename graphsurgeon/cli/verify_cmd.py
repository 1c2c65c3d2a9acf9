"""Check a SavedModel the way TensorFlow Serving will meet it; exit 1 on any failure.

Lints the folder (numeric version, variables.index, assets present and listed
once, exactly one init op, serve tag and serving_default, saved_model.pb under
1 GiB, only C++ runtime ops), then loads it with TensorFlow's C++ loader in a
process that never imports the tensorflow Python package, and runs every
signature. With --against SOURCE, outputs are compared with the source model's.

  graphsurgeon verify serving/enc/1 --against model_dir --inputs sample.npz
"""
from __future__ import annotations

import argparse

from rich.console import Console

from graphsurgeon.cli import options
from graphsurgeon.cli.render import print_json, print_verify
from graphsurgeon.verify import verify

NAME = "verify"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="SAVED_MODEL_DIR", help="a version folder, e.g. serving/model/1")
    parser.add_argument("--inputs", metavar="FILE.npz", help="arrays keyed by input key (or SIGNATURE/KEY)")
    parser.add_argument("--against", metavar="SOURCE", help="the model the export was made from")
    parser.add_argument("--signature", help="check only this signature")
    parser.add_argument("--asset-dir", help="where the source's asset files are now (as given to export)")
    parser.add_argument("--tags", default="serve", help="MetaGraph tags (default: serve)")
    parser.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance (default 1e-5)")
    parser.add_argument("--rtol", type=float, default=1e-5, help="relative tolerance (default 1e-5)")
    parser.add_argument("--json", action="store_true", help="print a JSON report")


def run(args: argparse.Namespace, console: Console) -> int:
    inputs = options.read_npz(args.inputs, "--inputs") if args.inputs else None
    report = verify(args.directory, inputs=inputs, against=args.against, signature=args.signature,
                    tags=[t for t in args.tags.split(",") if t], atol=args.atol, rtol=args.rtol,
                    asset_dir=args.asset_dir)
    if args.json:
        print_json(console, report)
    else:
        print_verify(console, report)
    return 0 if report.ok else 1
