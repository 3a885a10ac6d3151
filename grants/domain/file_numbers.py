"""File numbers (Aktenzeichen) like DQD-2026-0042: program prefix, year, running number."""

from __future__ import annotations

import re

_FORMAT = re.compile(r"^(?P<prefix>[A-Z]{2,6})-(?P<year>\d{4})-(?P<seq>\d{4,6})$")


def format_file_number(prefix: str, year: int, seq: int) -> str:
    if not re.fullmatch(r"[A-Z]{2,6}", prefix):
        raise ValueError(f"bad file-number prefix {prefix!r}")
    if seq < 1:
        raise ValueError("sequence starts at 1")
    return f"{prefix}-{year:04d}-{seq:04d}"


def parse_file_number(text: str) -> tuple[str, int, int] | None:
    m = _FORMAT.match(text.strip().upper())
    if not m:
        return None
    return m["prefix"], int(m["year"]), int(m["seq"])
