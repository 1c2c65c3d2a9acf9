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
from pathlib import Path

from rich.console import Console

from graphsurgeon.cli import options
from graphsurgeon.cli.progress import DelayedProgress
from graphsurgeon.cli.render import print_export
from graphsurgeon.pipeline import export

NAME = "export"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_model(parser)
    options.add_surgery(parser, inputs=True, outputs_required=False)
    parser.add_argument("-o", "--output", required=True, metavar="BASE_DIR", help="model base directory")
    options.add_saved_model(parser)
    parser.add_argument("--force", action="store_true", help="replace an existing version folder")
    parser.add_argument("--json", action="store_true", help="print a JSON report")


def run(args: argparse.Namespace, console: Console) -> int:
    with DelayedProgress("writing variables") as progress:
        result = export(args.model, options.recipe_from(args), args.output, version=args.version, force=args.force,
                        progress=progress, load_check=not args.no_load_check)
    print_export(console, result, Path(args.output).name, as_json=args.json)
    return 0
