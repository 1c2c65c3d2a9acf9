"""The graphsurgeon command: subcommand dispatch, logging, and exit codes in one place.

Exit codes: 0 success, 1 bad input (a GraphSurgeonError, printed as one line),
2 bad usage (an unknown option or a value argparse cannot parse, printed as one
line with the command's --help hint), 130 interrupted. Anything else is a bug
and keeps its traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from typing import NoReturn

from graphsurgeon.cli import audit_cmd, cut_cmd, export_cmd, freeze_cmd, inspect_cmd, serving_config_cmd, verify_cmd
from graphsurgeon.cli.render import make_console
from graphsurgeon.errors import GraphSurgeonError

COMMANDS = (inspect_cmd, audit_cmd, freeze_cmd, cut_cmd, export_cmd, verify_cmd, serving_config_cmd)
EXIT_USER_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130  # commands return 0 themselves, or 1 for a failed check
# A command builds up to millions of long-lived objects (a 1M-node graph's names, tensor refs, weight
# infos) and next to no cycles; at Python's default thresholds (700, 10, 10) the collector walks them
# all again and again: 8-10% of a 1M-node cut's CPU. (mypy raises its thresholds the same way.)
GC_THRESHOLDS = (100_000, 20, 100)


class _OneLineUsageParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the command's --help, not the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {' '.join(message.split())}; see '{self.prog} --help'\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineUsageParser(
        prog="graphsurgeon",
        description="Cut, freeze and export TensorFlow models for TensorFlow Serving.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details and show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        doc = (command.__doc__ or "").strip()
        summary = doc.split("\n\n", 1)[0].replace("\n", " ")
        cmd_parser = sub.add_parser(command.NAME, help=summary, description=doc,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_arguments(cmd_parser)
        cmd_parser.set_defaults(run=command.run)
    return parser


class _LowercaseLevel(logging.Formatter):
    """'warning: ...', 'error: ...': the same prefix style as the one-line errors main prints."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return f"{record.levelname.lower()}: {record.message}"


@contextlib.contextmanager
def _logging_to_stderr(verbose: bool) -> Iterator[None]:
    """Library log records as 'warning: ...' lines on stderr, for this call only."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LowercaseLevel())
    logger = logging.getLogger("graphsurgeon")
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def main(argv: Sequence[str] | None = None) -> int:
    # The CLI runs only tiny graphs (initializers, shape inference): never probe for GPUs.
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    args = build_parser().parse_args(argv)
    with _logging_to_stderr(args.verbose), _collecting_less():
        return _run(args)


@contextlib.contextmanager
def _collecting_less() -> Iterator[None]:
    """GC_THRESHOLDS for this call only (tests call main in their own process)."""
    saved = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def _run(args: argparse.Namespace) -> int:
    try:
        return args.run(args, make_console())
    except GraphSurgeonError as err:
        if args.verbose:
            raise
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
