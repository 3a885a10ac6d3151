"""The arithmetic check of a proof of use (Verwendungsnachweis) under fixed-amount financing
(Festbetragsfinanzierung). Pure.

The grant is a fixed sum. It is reduced only when the project cost less than the grant itself,
or when the money received (own funds, other funders and the grant) exceeds what the project
actually cost (over-financing): then the surplus comes back, at most the grant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from grants.domain.form_spec import Missing, required_missing

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
    actual = sum((line.actual for line in lines), ZERO)
    approved = sum((line.approved for line in lines), ZERO)
    receipts_total = sum((r.amount for r in receipts), ZERO)
    financing = own_funds + other_funding + granted
    surplus = max(financing - actual, ZERO)
    unspent = min(surplus, granted)
    problems = []
    if receipts_total != actual:
        problems.append(f"Die Belegliste ({receipts_total:.2f} €) stimmt nicht mit den tatsächlichen Ausgaben "
                        f"({actual:.2f} €) überein.")
    for line in lines:
        if line.approved and line.difference > line.approved * Decimal("0.2"):
            problems.append(f"„{line.description}“ liegt mehr als 20 % über dem Plan.")
    if project_start and project_end:
        outside = [r for r in receipts if not (project_start <= r.paid_on <= project_end)]
        if outside:
            problems.append(f"{len(outside)} Beleg(e) liegen außerhalb des Bewilligungszeitraums.")
    if any(r.amount <= 0 for r in receipts):
        problems.append("Belege mit Beträgen von 0 oder weniger.")
    return Check(tuple(lines), actual, approved, receipts_total, financing, unspent, tuple(problems))


# ---- the applicant's form: what keeps the proof from being submitted ---------------------------

@dataclass(frozen=True)
class PlanLine:
    """A line of the approved financing plan and what the applicant says was spent on it."""

    cost_item_id: int | None
    description: str
    approved: Decimal
    actual: Decimal | None        # None: not filled in yet


def missing(spec, values: dict, org_kind: str = "association") -> list:
    """Everything that keeps a proof of use from being submitted (German msgids for the web)."""

    out = required_missing(spec, values, org_kind)
    lines: list[PlanLine] = values.get("actual_costs") or []
    if lines and any(line.actual is None for line in lines) and not any(m.field == "actual_costs" for m in out):
        out.append(Missing("ausgaben", "actual_costs", "Bitte geben Sie für jede Zeile an, was Sie ausgegeben haben "
                                                        "(0, wenn nichts ausgegeben wurde)."))
    receipts: list[ReceiptRow] = values.get("receipts") or []
    actual = sum((line.actual or ZERO for line in lines), ZERO)
    total = sum((r.amount for r in receipts), ZERO)
    if receipts and lines and total != actual:
        out.append(Missing("belege", "receipts", "Die Summe der Belege (%(receipts)s €) muss Ihren tatsächlichen "
                                                 "Ausgaben (%(actual)s €) entsprechen.",
                           (("receipts", f"{total:.2f}"), ("actual", f"{actual:.2f}"))))
    return out


# ---- after the content check: what happens to the money -----------------------------------------

@dataclass(frozen=True)
class Settlement:
    keep: Decimal        # what the recipient may keep of the grant
    still_to_pay: Decimal  # kept but not paid out yet (a last instalment): still owed to the recipient
    release: Decimal     # committed, not paid and not kept: the commitment is released
    reclaim: Decimal     # paid out and not kept: to be paid back (Rückforderung)


def settle(granted: Decimal, paid: Decimal, unspent: Decimal) -> Settlement:
    """Split the grant after the proof of use. `unspent` is what the arithmetic check found, or
    more if staff revoke further; it is capped at the whole grant."""
    unspent = min(max(unspent, ZERO), granted)
    keep = granted - unspent
    unpaid = max(granted - paid, ZERO)
    still_to_pay = min(max(keep - paid, ZERO), unpaid)
    return Settlement(keep, still_to_pay, unpaid - still_to_pay, max(paid - keep, ZERO))
