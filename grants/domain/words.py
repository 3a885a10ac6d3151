"""Amounts in German words, as official letters write them: 1.250,50 € -> "eintausendzweihundertfünfzig Euro und fünfzig Cent"."""

from __future__ import annotations

from decimal import Decimal

_ONES = ["null", "ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf", "zwölf",
         "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"]
_TENS = ["", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"]


def _below_100(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return (_ONES[ones] + "und" if ones else "") + _TENS[tens]


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    out = (_ONES[hundreds] + "hundert") if hundreds else ""
    return out + (_below_100(rest) if rest else "")


def number(n: int, standalone: bool = True) -> str:
    """Standalone "eins", before a noun "ein" (einhundertein Euro)."""
    if n == 0:
        return "null"
    if n >= 1_000_000:
        raise ValueError("too large for a letter of this program")
    thousands, rest = divmod(n, 1000)
    out = (_below_1000(thousands) + "tausend") if thousands else ""
    words = out + (_below_1000(rest) if rest else "")
    return words + ("s" if standalone and words.endswith("ein") else "")


def euro_words(amount: Decimal) -> str:
    euros = int(amount)
    cents = int((amount - euros) * 100)
    text = f"{number(euros, False)} Euro"
    if cents:
        text += f" und {number(cents, False)} Cent"
    return text
