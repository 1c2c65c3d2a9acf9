"""Sizes as people write and read them: parsing "50MB", printing "1.50 MiB"."""
from __future__ import annotations

import re

from graphsurgeon.errors import UsageError

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B?)\s*", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str) -> int:
    """'50MB' -> 50_000_000, '1.5GiB' -> 1610612736, '123' -> 123 bytes."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).upper() if match else None
    if unit is not None and unit and not unit.endswith("B"):
        unit += "B"
    if not match or unit not in _UNITS:
        raise UsageError(f"cannot parse size {text!r}: write e.g. 50MB, 1.5GiB or 4096")
    return int(float(match.group(1)) * _UNITS[unit])


def format_size(n: int) -> str:
    """Bytes as a short human figure in binary units: 1.50 MiB."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"
