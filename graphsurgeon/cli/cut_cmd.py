"""Keep exactly what the outputs need, starting at the inputs, and write a frozen GraphDef.

Each input becomes a Placeholder; nothing upstream of an input survives.
Variables the outputs need become constants, training-only nodes go, and the
result is written atomically (.pb, or .pbtxt for text; --format saved_model
writes a versioned SavedModel like `export`). Prints what was kept and what
was removed, in nodes and bytes.

  graphsurgeon cut model.ckpt-1000 --inputs images_ph --outputs encoder/out -o encoder.pb
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from rich.console import Console

from graphsurgeon.audit.summary import compare
from graphsurgeon.cli import options
from graphsurgeon.cli.progress import DelayedProgress
from graphsurgeon.cli.render import print_cut_report, print_export, print_json
from graphsurgeon.pipeline import export, write_frozen

NAME = "cut"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_model(parser)
    options.add_surgery(parser, inputs=True)
    options.add_output(parser)
    parser.add_argument("--format", choices=("graphdef", "saved_model"), default="graphdef",
                        help="graphdef: a frozen .pb/.pbtxt file; saved_model: OUT is a base directory")
    options.add_saved_model(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.format == "saved_model":
        with DelayedProgress("writing variables") as progress:
            result = export(args.model, options.recipe_from(args), args.output, version=args.version,
                            force=args.force, progress=progress, load_check=not args.no_load_check)
        print_export(console, result, Path(args.output).name, as_json=args.json)
        return 0
    return cut_and_write(args, console)


def cut_and_write(args: argparse.Namespace, console: Console) -> int:
    """Shared by cut and freeze: plan, apply, write, report."""
    with DelayedProgress("writing weights") as progress:
        written = write_frozen(args.model, options.recipe_from(args), args.output, force=args.force,
                               progress=progress)
    path = written.path
    report = compare(written.source, written.result, written.plan)
    if args.json:
        print_json(console, {"output": str(path), "bytes_written": path.stat().st_size, **dataclasses.asdict(report)})
    else:
        print_cut_report(console, report, str(path))
    return 0
