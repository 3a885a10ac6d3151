"""The fund's ledger, at the bottom of the money services: which fund, its balances, what the
ledger says about one grant, and binding money for an approval. Every other money service (payouts,
bank statements, proof of use, reclaims, the finance pages) builds on this one and nothing here
builds on them."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from grants import clock
from grants.domain.ledger import Balances, can_commit, compute_balances
from grants.domain.money import fmt_plain
from grants.models import Application, Fund, LedgerEntry, LedgerMonth, Program
from grants.services import audit
from grants.services.errors import Conflict, Invalid

ZERO = Decimal("0.00")


def default_fund(db: Session) -> Fund | None:
    return db.scalar(select(Fund).order_by(Fund.id).limit(1))


def fund_for_program(db: Session, program_id: int) -> Fund:
    return db.execute(select(Fund).join(Program, Program.fund_id == Fund.id).where(Program.id == program_id)).scalar_one()


def balances(db: Session, fund_id: int) -> Balances:
    """From the per-month sums the database keeps with every insert (LedgerMonth): the same
    figures as summing the ledger, in time that does not grow with it. Exact: cents in SQL."""
    net: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    rows = db.execute(select(LedgerMonth.kind, LedgerMonth.reversed_kind, func.sum(LedgerMonth.total))
                      .where(LedgerMonth.fund_id == fund_id)
                      .group_by(LedgerMonth.kind, LedgerMonth.reversed_kind))
    for kind, reversed_kind, total in rows:
        if kind == "reversal":
            net[reversed_kind] -= total or Decimal("0.00")
        else:
            net[kind] += total or Decimal("0.00")
    return compute_balances(net)


def balances_from_entries(db: Session, fund_id: int) -> Balances:
    """The same figures summed from the entries themselves: the check that LedgerMonth agrees."""
    net: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
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


def net_by_kind(db: Session, case_id: int) -> dict[str, Decimal]:
    """The sum of each ledger kind for the case, reversals subtracted from the kind they reverse."""
    out: dict[str, Decimal] = {}
    for kind, total in db.execute(select(LedgerEntry.kind, func.sum(LedgerEntry.amount))
                                  .where(LedgerEntry.application_id == case_id, LedgerEntry.kind != "reversal")
                                  .group_by(LedgerEntry.kind)):
        out[kind] = total or ZERO
    reversed_ = aliased(LedgerEntry)
    for kind, total in db.execute(select(reversed_.kind, func.sum(LedgerEntry.amount))
                                  .join(reversed_, LedgerEntry.reverses_id == reversed_.id)
                                  .where(reversed_.application_id == case_id, LedgerEntry.kind == "reversal")
                                  .group_by(reversed_.kind)):
        out[kind] = out.get(kind, ZERO) - (total or ZERO)
    return out


def paid(db: Session, case_id: int) -> Decimal:
    k = net_by_kind(db, case_id)
    return k.get("payout", ZERO) - k.get("payout_return", ZERO)


def refunded(db: Session, case_id: int) -> Decimal:
    return net_by_kind(db, case_id).get("refund", ZERO)


def serialise(db: Session) -> None:
    """Every action that moves or binds money runs one at a time: call this first in its unit of
    work, before reading what it decides on. PostgreSQL: the fund rows are locked until the
    transaction ends (in id order, so two callers never deadlock), and at READ COMMITTED every
    statement after the lock sees what the previous holder committed. SQLite: every writing
    transaction already begins IMMEDIATE (grants.db), so writers queue and nothing is needed."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(Fund.id).order_by(Fund.id).with_for_update())


def commit_grant(db: Session, actor, application_id: int, amount: Decimal) -> LedgerEntry:
    """Bind money for an approved grant. Never beyond what is available, also when several
    approvals run at once (serialise). Safe to call twice."""
    serialise(db)
    case = db.get(Application, application_id)
    if case is None:
        raise Invalid("Diesen Antrag gibt es nicht.")
    fund = fund_for_program(db, case.program_id)
    existing = db.scalar(select(LedgerEntry).where(LedgerEntry.application_id == case.id,
                                                   LedgerEntry.kind == "commitment"))
    if existing is not None:
        return existing
    b = balances(db, fund.id)
    if not can_commit(b, amount):
        raise Conflict("Nicht genug Geld im Fonds: verfügbar sind %(available)s €, die Bewilligung braucht "
                       "%(amount)s €.", available=fmt_plain(b.available), amount=fmt_plain(amount))
    entry = LedgerEntry(fund_id=fund.id, kind="commitment", amount=amount, booked_on=clock.today(),
                        application_id=case.id, purpose=f"Bewilligung {case.file_number}",
                        created_by_id=actor.user_id)
    db.add(entry)
    case.granted = amount
    db.flush()
    audit.record(db, actor, "funds_committed", obj=entry, application_id=case.id, data={"amount": fmt_plain(amount)})
    return entry
