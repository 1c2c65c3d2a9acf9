"""What every command shares: message prefixes, help that matches the options, the public API's shape."""
from __future__ import annotations

import importlib
import inspect
import logging

import pytest

import graphsurgeon as gs
from graphsurgeon import errors
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


def test_the_public_api_is_the_run_and_no_more():
    assert len(gs.__all__) <= 12 and set(gs.__all__) >= {
        "load", "Recipe", "plan", "export", "write_frozen", "audit", "verify", "Model", "TensorRef",
        "GraphSurgeonError"}
    assert all(inspect.isfunction(getattr(gs, name)) for name in ("load", "plan", "export", "write_frozen"))
    assert issubclass(errors.CutError, gs.GraphSurgeonError) and inspect.isclass(gs.Model)


@pytest.mark.parametrize("name", ["audit", "verify"])
def test_audit_and_verify_are_packages_that_run_when_called(name, generated):
    """`import graphsurgeon.audit` gives the package (its modules are attributes), and gs.audit(...) runs it."""
    package = importlib.import_module(f"graphsurgeon.{name}")
    assert inspect.ismodule(package) and package is getattr(gs, name) and package.__path__
    assert getattr(gs, name).__call__.__func__ is type(package).__call__
    if name == "audit":
        report = gs.audit(gs.load(generated / "encoder_decoder"), outputs=["encoder/out"])
        assert report == gs.audit.audit(gs.load(generated / "encoder_decoder"), outputs=["encoder/out"])
