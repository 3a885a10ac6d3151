"""The arithmetic check of a proof of use (Verwendungsnachweis) under fixed-amount financing
(Festbetragsfinanzierung). Pure.

The grant is a fixed sum. It is reduced only when the project cost less than the grant itself,
or when the money received (own funds, other funders and the grant) exceeds what the project
actually cost (over-financing): then the surplus comes back, at most the grant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Line:
    description: str
    approved: Decimal
    actual: Decimal

    @property
    def difference(self) -> Decimal:
        return self.actual - self.approved


@dataclass(frozen=True)
class ReceiptRow:
    paid_on: date
    payee: str
    purpose: str
    amount: Decimal


@dataclass(frozen=True)
class Check:
    lines: tuple[Line, ...]
    actual_total: Decimal
    approved_total: Decimal
    receipts_total: Decimal
    financing_total: Decimal       # own funds + other funders + grant, as actually received
    unspent: Decimal               # to be reclaimed
    problems: tuple[str, ...]      # German, for the staff's content check


def check(lines: list[Line], receipts: list[ReceiptRow], *, granted: Decimal, own_funds: Decimal,
          other_funding: Decimal, project_start: date | None = None, project_end: date | None = None) -> Check:
    actual = sum((l.actual for l in lines), ZERO)
    approved = sum((l.approved for l in lines), ZERO)
    receipts_total = sum((r.amount for r in receipts), ZERO)
    financing = own_funds + other_funding + granted
    surplus = max(financing - actual, ZERO)
    unspent = min(surplus, granted)
    problems = []
    if receipts_total != actual:
        problems.append(f"Die Belegliste ({receipts_total:.2f} €) stimmt nicht mit den tatsächlichen Ausgaben "
                        f"({actual:.2f} €) überein.")
    for l in lines:
        if l.approved and l.difference > l.approved * Decimal("0.2"):
            problems.append(f"„{l.description}“ liegt mehr als 20 % über dem Plan.")
    if project_start and project_end:
        outside = [r for r in receipts if not (project_start <= r.paid_on <= project_end)]
        if outside:
            problems.append(f"{len(outside)} Beleg(e) liegen außerhalb des Bewilligungszeitraums.")
    if any(r.amount <= 0 for r in receipts):
        problems.append("Belege mit Beträgen von 0 oder weniger.")
    return Check(tuple(lines), actual, approved, receipts_total, financing, unspent, tuple(problems))
