"""Report where a model's bytes are, what a cut would save, and what will break in Serving.

Reads no weights: sizes come from the checkpoint index, constant headers and
file sizes. With --outputs (and --inputs), every byte and node is split into
kept and removable, with the reason each removable group goes. --budget exits
1 when the kept bytes exceed it, for CI gates; --json prints the documented
schema (docs/audit-json.md). --html writes one self-contained page: a treemap
of bytes by name scope coloured by what the cut does with them, the cut's
boundary and totals, and the risks with their fixes.

  graphsurgeon audit model_dir --outputs encoder/out --inputs images_ph --budget 50MB --html audit.html
"""
from __future__ import annotations

import argparse

from pathlib import Path

from rich.console import Console

from graphsurgeon.audit.html import write_html
from graphsurgeon.audit.render import print_audit
from graphsurgeon.audit.report import audit
from graphsurgeon.audit.sizes import parse_size
from graphsurgeon.cli import options
from graphsurgeon.cli.render import print_json
from graphsurgeon.exporters.atomic import check_target
from graphsurgeon.names import TensorRef
from graphsurgeon.pipeline import load_source

NAME = "audit"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_model(parser)
    options.add_surgery(parser, inputs=True, outputs_required=False)
    parser.add_argument("--by", choices=("scope", "op", "dtype"), default="scope", help="how to group bytes")
    parser.add_argument("--top", type=int, default=10, help="how many of the largest tensors to list")
    parser.add_argument("--depth", type=int, default=2, help="name-scope levels in the tree")
    parser.add_argument("--budget", metavar="SIZE", help="exit 1 if the kept bytes exceed SIZE (50MB, 1.5GiB)")
    parser.add_argument("--json", action="store_true", help="print JSON (docs/audit-json.md)")
    parser.add_argument("--html", metavar="REPORT.html", type=Path,
                        help="also write a self-contained page with a treemap of bytes by scope (no network)")
    parser.add_argument("--force", action="store_true", help="overwrite REPORT.html if it exists")


def run(args: argparse.Namespace, console: Console) -> int:
    budget = parse_size(args.budget) if args.budget else None
    if args.html is not None:
        check_target(args.html, args.force)  # before any work
    recipe = options.recipe_from(args)
    model = load_source(args.model, recipe, trace=False)
    wanted = [*(recipe.outputs or ()), *(spec.name for spec in recipe.inputs or ())]
    if not model.source.traced and any(TensorRef.parse(name).node not in model.graph for name in wanted):
        model = load_source(args.model, recipe)  # e.g. a subclassed Keras model: its names exist once traced
    report = audit(model, by=args.by, top=args.top, depth=args.depth, budget=budget, recipe=recipe)
    if args.html is not None:
        write_html(report, args.html, force=args.force)
    if args.json:
        print_json(console, report.to_json())
    else:
        print_audit(console, report, args.by)
        if args.html is not None:
            console.print(f"wrote [bold]{args.html}[/bold]")
    return 0 if report.budget is None or report.budget.ok else 1
