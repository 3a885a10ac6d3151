"""A program's city decisions as one typed, frozen object (a city runs several programs: they are data).

The stored form is the JSON dict `Program.rules` plus the columns `min_amount`/`max_amount`.
It is parsed here and nowhere else, and this is the only place the defaults live: a reader asks
`program.typed_rules.report_months`, it never digs in the dict with a default of its own.

Parsing refuses what it does not understand (an unknown key, a wrong type) instead of falling
back to a default: a misspelt "hold_leters" would otherwise quietly send letters unreviewed.
Pure: no Flask, no database, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from grants.domain.deadlines import BaseRate
from grants.domain.eligibility import PROOF_YEARS

# The organisation kinds the application knows (grants/models/organisation.py OrgKind); a
# program admits all of them unless it says otherwise.
ORG_KINDS: frozenset[str] = frozenset({"association", "parish", "other"})


class ProgramRulesError(ValueError):
    """The stored rules of a program cannot be used; `key` names the offending rule."""

    def __init__(self, key: str, problem: str):
        self.key = key
        super().__init__(f"program rule {key!r}: {problem}")


@dataclass(frozen=True)
class ProgramRules:
    """Every rule a program may set, with the program's defaults."""

    min_amount: Decimal = Decimal("500.00")
    max_amount: Decimal = Decimal("5000.00")
    allowed_kinds: frozenset[str] = ORG_KINDS
    # per proof kind, how many years it counts; a program overrides single kinds, the others
    # keep the law's value. hash=False: a mapping cannot be hashed, the other fields suffice.
    proof_years: Mapping[str, int] = field(default_factory=lambda: MappingProxyType(dict(PROOF_YEARS)), hash=False)
    required_attachments: tuple[str, ...] = ()
    staff_confirmation: bool = True       # all pass -> staff confirm before the committee
    purpose_judgement: bool = True        # staff judge the purpose during screening (else the committee does)
    max_project_days: int = 366
    report_months: int = 6                # proof of use due this long after the project ends
    instalments: tuple[int, ...] = ()     # percentage shares; () is one transfer
    hold_letters: bool = False            # decision letters wait for a staff release
    proof_form: str = "verwendungsnachweis"   # forms/<name>.toml
    base_rates: tuple[BaseRate, ...] = ()     # () is the shipped grants/base_rates.toml
    reclaim_pay_days: int = 30            # the Rückforderungsbescheid asks for payment within a month
    draft_retention_months: int = 12
    retention_years: int = 10

    @classmethod
    def parse(cls, stored: Mapping[str, Any] | None, min_amount: Decimal | None = None,
              max_amount: Decimal | None = None) -> ProgramRules:
        """The rules from the stored dict and the amount columns. The columns win over the dict's
        `min_amount`/`max_amount` (those only count where a column is empty), as they always did."""
        if stored is None:
            stored = {}
        if not isinstance(stored, Mapping):
            raise ProgramRulesError("rules", f"expected a dict of rules, got {_shown(stored)}")
        unknown = sorted(str(k) for k in stored if k not in _PARSERS)
        if unknown:
            raise ProgramRulesError(unknown[0], "unknown rule; known are " + ", ".join(sorted(_PARSERS)))
        values = {key: _PARSERS[key](key, value) for key, value in stored.items()}
        if "proof_years" in values:
            values["proof_years"] = MappingProxyType({**PROOF_YEARS, **values["proof_years"]})
        if min_amount is not None:
            values["min_amount"] = _money("min_amount", min_amount)
        if max_amount is not None:
            values["max_amount"] = _money("max_amount", max_amount)
        return cls(**values)


def from_stored(stored: Mapping[str, Any] | None, min_amount: Decimal | None = None,
                max_amount: Decimal | None = None) -> ProgramRules:
    """`ProgramRules.parse`, once per distinct content.

    Keyed by the content (canonical JSON), not by the Program row: every session loads its own
    Program instance, so a cache on the instance would parse again on every request, and a key
    taken from the value needs no invalidation when the dict is replaced or mutated in place
    (which SQLAlchemy does not even notice for a plain JSON column)."""
    try:
        key = json.dumps(stored, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        # not JSON (a date or Decimal put in before a flush): cannot come from a stored row, and
        # is rare enough to parse each time
        return ProgramRules.parse(stored, min_amount, max_amount)
    if not all(a is None or isinstance(a, Decimal) for a in (min_amount, max_amount)):
        return ProgramRules.parse(stored, min_amount, max_amount)
    # str, not the Decimal: Decimal("500") == Decimal("500.00") would share a cache entry
    return _parse_json(key, _str_or_none(min_amount), _str_or_none(max_amount))


@lru_cache(maxsize=64)
def _parse_json(key: str, min_amount: str | None, max_amount: str | None) -> ProgramRules:
    return ProgramRules.parse(json.loads(key), _decimal_or_none(min_amount), _decimal_or_none(max_amount))


def _str_or_none(d: Decimal | None) -> str | None:
    return None if d is None else str(d)


def _decimal_or_none(s: str | None) -> Decimal | None:
    return None if s is None else Decimal(s)


def parse_base_rates(rows: Any, key: str = "base_rates") -> tuple[BaseRate, ...]:
    """Base-rate rows `{"from": date or "YYYY-MM-DD", "percent": "1.27"}`, oldest first; the same
    shape in a program's rules and in grants/base_rates.toml."""
    out = []
    for i, row in enumerate(_sequence(key, rows)):
        where = f"{key}[{i}]"
        if not isinstance(row, Mapping):
            raise ProgramRulesError(where, f"expected {{\"from\": ..., \"percent\": ...}}, got {_shown(row)}")
        if set(row) != {"from", "percent"}:
            raise ProgramRulesError(where, f"expected exactly the keys 'from' and 'percent', got {sorted(map(str, row))}")
        out.append(BaseRate(_date(f"{where}.from", row["from"]), _money(f"{where}.percent", row["percent"])))
    return tuple(sorted(out, key=lambda r: r.valid_from))


def _shown(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _money(key: str, value: Any) -> Decimal:
    # bool is an int to Python, never an amount; floats are what a JSON number may come back as
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ProgramRulesError(key, f"expected an amount such as \"500.00\", got {_shown(value)}")
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise ProgramRulesError(key, f"expected an amount such as \"500.00\", got {_shown(value)}")
    if not d.is_finite():
        raise ProgramRulesError(key, f"expected an amount such as \"500.00\", got {_shown(value)}")
    return d


def _int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProgramRulesError(key, f"expected a whole number, got {_shown(value)}")
    return value


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ProgramRulesError(key, f"expected true or false, got {_shown(value)}")
    return value


def _str(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ProgramRulesError(key, f"expected a non-empty text, got {_shown(value)}")
    return value


def _date(key: str, value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ProgramRulesError(key, f"expected a date such as \"2025-07-01\", got {_shown(value)}")


def _sequence(key: str, value: Any) -> Sequence:
    # a text is a sequence too, but "quote" must not become ("q", "u", "o", "t", "e")
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ProgramRulesError(key, f"expected a list, got {_shown(value)}")
    return value


def _texts(key: str, value: Any) -> tuple[str, ...]:
    return tuple(_str(f"{key}[{i}]", v) for i, v in enumerate(_sequence(key, value)))


def _ints(key: str, value: Any) -> tuple[int, ...]:
    # the shares' sum is checked where payouts are planned, so a letter still shows one amount
    return tuple(_int(f"{key}[{i}]", v) for i, v in enumerate(_sequence(key, value)))


def _kinds(key: str, value: Any) -> frozenset[str]:
    kinds = _texts(key, value)
    unknown = sorted(set(kinds) - ORG_KINDS)
    if unknown:
        raise ProgramRulesError(key, f"unknown organisation kind {unknown[0]!r}; known are {', '.join(sorted(ORG_KINDS))}")
    return frozenset(kinds)


def _proof_years(key: str, value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ProgramRulesError(key, f"expected a dict of proof kind to years, got {_shown(value)}")
    unknown = sorted(str(k) for k in value if k not in PROOF_YEARS)
    if unknown:
        raise ProgramRulesError(f"{key}.{unknown[0]}", f"unknown proof kind; known are {', '.join(sorted(PROOF_YEARS))}")
    return {k: _int(f"{key}.{k}", v) for k, v in value.items()}


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "min_amount": _money,
    "max_amount": _money,
    "allowed_kinds": _kinds,
    "proof_years": _proof_years,
    "required_attachments": _texts,
    "staff_confirmation": _bool,
    "purpose_judgement": _bool,
    "max_project_days": _int,
    "report_months": _int,
    "instalments": _ints,
    "hold_letters": _bool,
    "proof_form": _str,
    "base_rates": lambda key, value: parse_base_rates(value, key),
    "reclaim_pay_days": _int,
    "draft_retention_months": _int,
    "retention_years": _int,
}
