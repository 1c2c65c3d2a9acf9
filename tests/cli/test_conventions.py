"""What every command shares: message prefixes, help that matches the options, the public API's shape."""
from __future__ import annotations

import inspect
import logging

import pytest

import graphsurgeon as gs
from graphsurgeon.cli.main import _logging_to_stderr, build_parser


def test_log_lines_use_the_same_lowercase_prefix_as_errors(capsys):
    with _logging_to_stderr(verbose=False):
        logging.getLogger("graphsurgeon.surgery.cut").warning("input %s is not used", "x")
        logging.getLogger("graphsurgeon.surgery.cut").error("something %s", "bad")
    assert capsys.readouterr().err.splitlines() == ["warning: input x is not used", "error: something bad"]


def test_cut_warning_reaches_the_user_as_warning_line(cli, generated, tmp_path):
    result = cli("cut", generated / "encoder_decoder", "--inputs", "images_ph", "decoder/MatMul",
                 "--outputs", "encoder/out", "-o", tmp_path / "enc.pb")
    assert result.code == 0
    assert "warning: input decoder/MatMul:0 is not used by any output" in result.err
    assert "WARNING" not in result.err


def _help(command: str) -> str:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices[command].format_help()


def test_freeze_help_does_not_mention_an_option_freeze_lacks():
    text = _help("freeze")
    assert "--format" not in text and "saved_model" not in text
    assert "--format" in _help("cut")


@pytest.mark.parametrize("name", ["load", "extract", "audit", "verify", "cut", "freeze", "bind", "write_graph_def",
                                  "export_saved_model"])
def test_public_api_names_are_functions(name):
    assert inspect.isfunction(getattr(gs, name)), f"graphsurgeon.{name} is {getattr(gs, name)!r}"


def test_public_api_exports_no_modules():
    assert not [n for n in gs.__all__ if inspect.ismodule(getattr(gs, n))]
    assert issubclass(gs.CutError, gs.GraphSurgeonError) and inspect.isclass(gs.Model)
