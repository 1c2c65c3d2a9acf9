"""Show a model's format, ops, candidate inputs and outputs, and variables with their sizes.

Reads no weights: sizes come from the checkpoint index and the graph itself.
"""
from __future__ import annotations

import argparse

from rich.console import Console

from graphsurgeon.audit.summary import summarize
from graphsurgeon.cli import options
from graphsurgeon.cli.render import print_json, print_summary
from graphsurgeon.pipeline import load_source

NAME = "inspect"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_model(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables (always complete)")
    parser.add_argument("--all", action="store_true", help="list every op, input, output and variable (default: 10 each)")


def run(args: argparse.Namespace, console: Console) -> int:
    summary = summarize(load_source(args.model, options.recipe_from(args), trace=False))
    if args.json:
        print_json(console, summary)
    else:
        print_summary(console, summary, limit=None if args.all else 10)
    return 0
