"""Exports of the verify fixtures (fixtures/verify_cases.py), made once per module with the library's export()."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import graphsurgeon as gs


@pytest.fixture(scope="session")
def cases(generated) -> Path:
    return generated / "verify"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """export(source, **recipe) -> the version folder, each recipe exported once per module."""
    made: dict[tuple, Path] = {}

    def export(source: Path, **recipe) -> Path:
        key = (str(source), json.dumps(recipe, sort_keys=True, default=str))
        if key not in made:
            base = tmp_path_factory.mktemp("export") / "model"
            made[key] = gs.export(source, gs.Recipe(**recipe), base).path
        return made[key]

    return export


def report_of(result) -> dict:
    """The --json report of a CLI run."""
    return json.loads(result.out)


def outputs_of(report: dict, signature: str = "serving_default") -> dict[str, dict]:
    (sig,) = [s for s in report["signatures"] if s["key"] == signature]
    return {o["key"]: o for o in sig["outputs"]}


def flat(text: str) -> str:
    """Console output with its line wrapping undone."""
    return " ".join(text.split())
