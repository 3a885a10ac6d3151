"""Rules about who may apply (docs/domain.md, "Who may apply"). City decisions are parameters
with their defaults."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

# proof of non-profit status: how many years it counts
PROOF_YEARS = {"exemption_notice": 5, "tax_notice_annex": 5, "notice_60a": 3}


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def proof_valid_until(kind: str, issued_on: date, years: Mapping[str, int] | None = None) -> date:
    """The last day the proof counts: issued_on plus its years (a notice exactly 5 years old
    on the day still counts)."""
    return add_years(issued_on, (years or PROOF_YEARS)[kind])


def proof_valid_on(kind: str, issued_on: date, day: date, years: Mapping[str, int] | None = None) -> bool:
    return issued_on <= day <= proof_valid_until(kind, issued_on, years)
