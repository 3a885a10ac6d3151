"""Reading the fund: balances and payouts."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from grants.domain.ledger import Balances, compute_balances
from grants.models import Fund, LedgerEntry, Payout, Program


def default_fund(db: Session) -> Fund | None:
    return db.scalar(select(Fund).order_by(Fund.id).limit(1))


def balances(db: Session, fund_id: int) -> Balances:
    net: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    # SUM over the Money column adds integer cents in SQL and comes back as Decimal: exact
    rows = db.execute(select(LedgerEntry.kind, func.sum(LedgerEntry.amount))
                      .where(LedgerEntry.fund_id == fund_id, LedgerEntry.kind != "reversal")
                      .group_by(LedgerEntry.kind))
    for kind, total in rows:
        net[kind] += total or Decimal("0.00")
    reversed_ = aliased(LedgerEntry)
    rows = db.execute(select(reversed_.kind, func.sum(LedgerEntry.amount))
                      .join(reversed_, LedgerEntry.reverses_id == reversed_.id)
                      .where(LedgerEntry.fund_id == fund_id, LedgerEntry.kind == "reversal")
                      .group_by(reversed_.kind))
    for kind, total in rows:
        net[kind] -= total or Decimal("0.00")
    return compute_balances(net)


def payouts(db: Session, state: str | None = None) -> list[tuple[Payout, str | None]]:
    from grants.models import Application

    stmt = (select(Payout, Application.file_number)
            .join(Application, Application.id == Payout.application_id)
            .order_by(Payout.id))
    if state:
        stmt = stmt.where(Payout.state == state)
    return [(p, fn) for p, fn in db.execute(stmt)]


def fund_for_program(db: Session, program_id: int) -> Fund:
    return db.scalar(select(Fund).join(Program, Program.fund_id == Fund.id).where(Program.id == program_id))


def record_donation(db: Session, actor, fund_id: int, donor: str, booked_on, amount: Decimal,
                    purpose: str = "") -> LedgerEntry:
    """A donation recorded by hand (e.g. a cheque, cash at an event)."""
    from grants.domain.roles import Perm
    from grants.services import audit
    from grants.services.errors import Invalid

    actor.require(Perm.FINANCE_PREPARE)
    if amount <= 0:
        raise Invalid("Der Betrag muss größer als 0 sein.")
    if not donor.strip():
        raise Invalid("Bitte geben Sie an, wer gespendet hat.")
    entry = LedgerEntry(fund_id=fund_id, kind="donation", amount=amount, booked_on=booked_on,
                        donor=donor.strip()[:200], purpose=purpose.strip(), created_by_id=actor.user_id)
    db.add(entry)
    db.flush()
    audit.record(db, actor, "donation_recorded", obj=entry, data={"amount": str(amount), "donor": donor.strip()})
    return entry


# the sign of each entry kind for the bank-side view of the ledger (export, charts)
SIGN = {"donation": 1, "refund": 1, "payout": -1, "payout_return": 1, "commitment": 0,
        "commitment_release": 0, "reclaim": 0, "reversal": 0}


def ledger_rows(db: Session, fund_id: int):
    """Every ledger entry with its case, oldest first, for the export to the city's accounting."""
    from grants.models import Application

    return db.execute(select(LedgerEntry, Application.file_number)
                      .outerjoin(Application, Application.id == LedgerEntry.application_id)
                      .where(LedgerEntry.fund_id == fund_id)
                      .order_by(LedgerEntry.booked_on, LedgerEntry.id)).all()


def monthly(db: Session, fund_id: int) -> dict[str, dict[str, Decimal]]:
    """Sums per month (YYYY-MM) and kind."""
    out: dict[str, dict[str, Decimal]] = {}
    for kind, booked_on, amount in db.execute(select(LedgerEntry.kind, LedgerEntry.booked_on, LedgerEntry.amount)
                                              .where(LedgerEntry.fund_id == fund_id)):
        month = booked_on.strftime("%Y-%m")
        out.setdefault(month, {}).setdefault(kind, Decimal("0.00"))
        out[month][kind] += amount
    return dict(sorted(out.items()))


def paid_by_quarter(db: Session, fund_id: int) -> list[tuple[str, Decimal]]:
    """Paid out (net of returns) per Stadtteil, largest first."""
    from grants.models import Application

    totals: dict[str, Decimal] = {}
    rows = db.execute(select(Application.quarter, LedgerEntry.kind, func.sum(LedgerEntry.amount))
                      .join(Application, Application.id == LedgerEntry.application_id)
                      .where(LedgerEntry.fund_id == fund_id, LedgerEntry.kind.in_(("payout", "payout_return")))
                      .group_by(Application.quarter, LedgerEntry.kind))
    for quarter, kind, total in rows:
        totals[quarter or "–"] = totals.get(quarter or "–", Decimal("0.00")) + (total if kind == "payout" else -total)
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def open_counts(db: Session) -> dict[str, int]:
    from grants.models import BankEntry, PayoutRun

    return {
        "due": db.scalar(select(func.count()).select_from(Payout).where(Payout.state == "due")),
        "to_release": db.scalar(select(func.count()).select_from(PayoutRun).where(PayoutRun.state == "prepared")),
        "released": db.scalar(select(func.count()).select_from(Payout).where(Payout.state == "released")),
        "unmatched": db.scalar(select(func.count()).select_from(BankEntry).where(BankEntry.match_state == "unmatched")),
    }
