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


def reconciliation_problems(db: Session, fund_id: int) -> list[str]:
    """Check the ledger against its invariants, per fund and per grant, and against the payouts."""
    from grants.domain.ledger import CaseMoney, problems
    from grants.models import Application

    per_case: dict[str, dict[str, Decimal]] = {}
    rows = db.execute(select(Application.file_number, LedgerEntry.kind, func.sum(LedgerEntry.amount))
                      .join(Application, Application.id == LedgerEntry.application_id)
                      .where(LedgerEntry.fund_id == fund_id, LedgerEntry.kind != "reversal")
                      .group_by(Application.file_number, LedgerEntry.kind))
    for fn, kind, total in rows:
        per_case.setdefault(fn, {})[kind] = total
    zero = Decimal("0.00")
    cases = {fn: CaseMoney(k.get("commitment", zero) - k.get("commitment_release", zero),
                           k.get("payout", zero) - k.get("payout_return", zero), k.get("refund", zero),
                           k.get("reclaim", zero))
             for fn, k in per_case.items()}
    found = problems(balances(db, fund_id), cases)
    # every booked payout has exactly one payout entry in the ledger, and nothing else has one
    booked = {p.id for p in db.scalars(select(Payout).where(Payout.fund_id == fund_id, Payout.state == "booked"))}
    in_ledger = [pid for pid in db.scalars(select(LedgerEntry.payout_id).where(
        LedgerEntry.fund_id == fund_id, LedgerEntry.kind == "payout"))]
    returned = [pid for pid in db.scalars(select(LedgerEntry.payout_id).where(
        LedgerEntry.fund_id == fund_id, LedgerEntry.kind == "payout_return"))]
    net = {}
    for pid in in_ledger:
        net[pid] = net.get(pid, 0) + 1
    for pid in returned:
        net[pid] = net.get(pid, 0) - 1
    if None in net:
        found.append("a payout entry in the ledger names no payout")
        net.pop(None)
    still_paid = {pid for pid, n in net.items() if n > 0}
    if still_paid != booked:
        found.append(f"payouts booked {sorted(booked)} differ from the ledger's {sorted(still_paid)}")
    return found


def reclassify_donation(db: Session, actor, entry_id: int, kind: str, *, file_number: str = "", reason: str) -> LedgerEntry:
    """A credit booked as a donation was something else: reverse it (never edit) and book it anew."""
    from grants.domain.roles import Perm
    from grants.models import Application
    from grants.services import audit
    from grants.services.errors import Conflict, Invalid, NotFound

    actor.require(Perm.FINANCE_PREPARE)
    entry = db.get(LedgerEntry, entry_id)
    if entry is None or entry.kind != "donation":
        raise NotFound("Diese Spende gibt es nicht.")
    if db.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)) is not None:
        raise Conflict("Diese Buchung ist schon storniert.")
    if not reason.strip():
        raise Invalid("Bitte geben Sie eine Begründung an.")
    db.add(LedgerEntry(fund_id=entry.fund_id, kind="reversal", amount=entry.amount, booked_on=entry.booked_on,
                       reverses_id=entry.id, bank_entry_id=entry.bank_entry_id, purpose=reason.strip(),
                       created_by_id=actor.user_id))
    new = None
    if kind == "refund":
        case = db.scalar(select(Application).where(Application.file_number == file_number.strip().upper()))
        if case is None:
            raise Invalid("Kein Antrag mit diesem Aktenzeichen.")
        new = LedgerEntry(fund_id=entry.fund_id, kind="refund", amount=entry.amount, booked_on=entry.booked_on,
                          application_id=case.id, bank_entry_id=entry.bank_entry_id, donor=entry.donor,
                          purpose=entry.purpose, created_by_id=actor.user_id)
        db.add(new)
        db.flush()
        from grants.services import reclaims

        reclaims.refund_received(db, case.id)
    elif kind != "other":
        raise Invalid("Diese Zuordnung passt nicht zu der Buchung.")
    db.flush()
    audit.record(db, actor, "donation_reclassified", obj=entry, reason=reason.strip(),
                 data={"to": kind, "file_number": file_number})
    return new or entry


def commit_grant(db: Session, actor, application_id: int, amount: Decimal) -> LedgerEntry:
    """Bind money for an approved grant. Never beyond what is available, also when several
    approvals run at once: the fund row is locked (PostgreSQL: SELECT ... FOR UPDATE; SQLite:
    every transaction here begins IMMEDIATE, so writers queue). Safe to call twice."""
    from datetime import date

    from grants.domain.ledger import can_commit
    from grants.domain.money import fmt_plain
    from grants.models import Application
    from grants.services import audit
    from grants.services.errors import Conflict, Invalid

    case = db.get(Application, application_id)
    if case is None:
        raise Invalid("Diesen Antrag gibt es nicht.")
    fund = fund_for_program(db, case.program_id)
    if db.bind.dialect.name == "postgresql":
        db.execute(select(Fund.id).where(Fund.id == fund.id).with_for_update())
    existing = db.scalar(select(LedgerEntry).where(LedgerEntry.application_id == case.id,
                                                   LedgerEntry.kind == "commitment"))
    if existing is not None:
        return existing
    b = balances(db, fund.id)
    if not can_commit(b, amount):
        raise Conflict("Nicht genug Geld im Fonds: verfügbar sind %(available)s €, die Bewilligung braucht "
                       "%(amount)s €.", available=fmt_plain(b.available), amount=fmt_plain(amount))
    entry = LedgerEntry(fund_id=fund.id, kind="commitment", amount=amount, booked_on=date.today(),
                        application_id=case.id, purpose=f"Bewilligung {case.file_number}",
                        created_by_id=actor.user_id)
    db.add(entry)
    case.granted = amount
    db.flush()
    audit.record(db, actor, "funds_committed", obj=entry, application_id=case.id, data={"amount": fmt_plain(amount)})
    return entry
