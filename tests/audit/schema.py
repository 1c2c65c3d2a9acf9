"""`audit --json` output, checked against the schema docs/audit-json.md documents before a test reads it."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = json.loads(re.search(r"```json\n(.*?)```", (Path(__file__).resolve().parents[2] / "docs" / "audit-json.md")
                              .read_text(), re.S).group(1))


def audit_json(text: str) -> Any:
    """The report `audit --json` printed, after jsonschema has validated it against the documented schema."""
    report = json.loads(text)
    jsonschema.validate(report, SCHEMA)
    return report
