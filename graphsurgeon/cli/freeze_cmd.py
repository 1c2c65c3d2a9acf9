"""Turn the variables the outputs need into constants and write a frozen GraphDef.

Values come from the checkpoint; --init-from-initializers runs the variables'
own initializers for models shipped without one. Only the subgraph the outputs
need is written.

  graphsurgeon freeze model_dir --outputs softmax -o frozen.pb
"""
from __future__ import annotations

import argparse

from rich.console import Console

from graphsurgeon.cli import options
from graphsurgeon.cli.cut_cmd import cut_and_write

NAME = "freeze"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_model(parser)
    options.add_surgery(parser, inputs=False)
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="the .pb or .pbtxt file to write")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.add_argument("--json", action="store_true", help="print a JSON report instead of tables")


def run(args: argparse.Namespace, console: Console) -> int:
    return cut_and_write(args, console)
