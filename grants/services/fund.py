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
