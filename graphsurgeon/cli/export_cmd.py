"""Export a model as a versioned SavedModel for TensorFlow Serving: BASE_DIR/<version>/.

Without --outputs, the source's own signatures are kept (and their outputs
decide what is kept). Variables are frozen and large constants stored in
variables/; assets are copied once each; one init op runs table initializers
in a guaranteed order. The version folder appears only when complete.

  graphsurgeon export model_dir --inputs images_ph --outputs encoder/out --keys images_ph=images -o serving/enc
  graphsurgeon verify serving/enc/1 --against model_dir
"""
from __future__ import annotations

import argparse

from rich.console import Console

from graphsurgeon.cli import options
from graphsurgeon.cli.render import print_export, print_json
from graphsurgeon.exporters.saved_model.publish import check_base
from graphsurgeon.loaders import load

NAME = "export"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_model(parser)
    options.add_surgery(parser, inputs=True, outputs_required=False)
    parser.add_argument("-o", "--output", required=True, metavar="BASE_DIR", help="model base directory")
    options.add_saved_model(parser)
    parser.add_argument("--force", action="store_true", help="replace an existing version folder")
    parser.add_argument("--json", action="store_true", help="print a JSON report")


def run(args: argparse.Namespace, console: Console) -> int:
    from pathlib import Path

    check_base(Path(args.output), args.version, args.force)
    source = load(args.model, tags=options.tags(args))
    model = options.extract_for_export(source, args)
    path = options.export(model, args)
    report = {"path": str(path), "signatures": options.signature_summary(path)}
    print_json(console, report) if args.json else print_export(console, report)
    return 0
