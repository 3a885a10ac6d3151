"""Amounts of money: always Decimal with two places, never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")

# A plain amount as people and banks write it: digits, optional two decimals.
# No exponent ("1e5"), no sign, no thousands separators other than the German dot.
_PLAIN = re.compile(r"^\d{1,12}([.,]\d{1,2})?$")
_GERMAN_GROUPED = re.compile(r"^\d{1,3}(\.\d{3})+(,\d{1,2})?$")
# English grouping only with decimals, so that "1,250" (German: 1.25) stays ambiguous and refused
_ENGLISH_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+\.\d{1,2}$")


class AmountError(ValueError):
    pass


def parse_amount(text: str | Decimal | int) -> Decimal:
    """Parse a user's amount ("1.250,50", "1250.5", "500") into Decimal with 2 places.

    Refuses negatives, exponents, more than two decimals and anything that is not a number.
    """
    if isinstance(text, Decimal):
        value = text
    elif isinstance(text, int) and not isinstance(text, bool):
        value = Decimal(text)
    elif isinstance(text, str):
        s = text.replace("\u00a0", " ").strip().removesuffix("€").removeprefix("€").strip()
        if _GERMAN_GROUPED.match(s):
            s = s.replace(".", "").replace(",", ".")
        elif _ENGLISH_GROUPED.match(s):
            s = s.replace(",", "")
        elif _PLAIN.match(s):
            s = s.replace(",", ".")
        else:
            raise AmountError(f"not a plain amount: {text!r}")
        value = Decimal(s)
    else:
        raise AmountError(f"not an amount: {text!r}")
    try:
        if not value.is_finite() or value < 0:
            raise AmountError(f"amount must be zero or positive: {text!r}")
        if value != value.quantize(CENT):
            raise AmountError(f"more than two decimal places: {text!r}")
        return value.quantize(CENT)
    except InvalidOperation:
        raise AmountError(f"not an amount: {text!r}") from None


def to_cents(amount: Decimal) -> int:
    q = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if q != amount:
        raise AmountError(f"amount has fractions of a cent: {amount}")
    return int(q * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def fmt_german(amount: Decimal) -> str:
    """"1.250,00": how German letters and messages write an amount (without the currency)."""
    return f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def fmt_plain(amount: Decimal) -> str:
    """"1250.00": the machine format of the command line's JSON and of CSV."""
    return f"{amount.quantize(CENT):f}"
