"""The finance staff's view of the fund and the corrections they book by hand: payouts, the ledger
export, monthly and per-Stadtteil sums, the reconciliation check, manual donations and
reclassified credits. Built on grants.services.ledger."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from grants.domain.ledger import CaseMoney, problems
from grants.domain.roles import Perm
from grants.models import Application, BankEntry, LedgerEntry, LedgerMonth, Payout, PayoutRun
from grants.services import audit, reclaims
from grants.services.committee.voting import approved_not_committed
from grants.services.errors import Conflict, Invalid, NotFound
from grants.services.ledger import balances, balances_from_entries, serialise


def payouts(db: Session, state: str | None = None) -> list[tuple[Payout, str | None]]:
    stmt = (select(Payout, Application.file_number)
            .join(Application, Application.id == Payout.application_id)
            .order_by(Payout.id))
    if state:
        stmt = stmt.where(Payout.state == state)
    return [(p, fn) for p, fn in db.execute(stmt)]


def record_donation(db: Session, actor, fund_id: int, donor: str, booked_on, amount: Decimal,
                    purpose: str = "") -> LedgerEntry:
    """A donation recorded by hand (e.g. a cheque, cash at an event)."""

    actor.require(Perm.FINANCE_PREPARE)
    if amount <= 0:
        raise Invalid("Der Betrag muss größer als 0 sein.")
    serialise(db)
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
    return db.execute(select(LedgerEntry, Application.file_number)
                      .outerjoin(Application, Application.id == LedgerEntry.application_id)
                      .where(LedgerEntry.fund_id == fund_id)
                      .order_by(LedgerEntry.booked_on, LedgerEntry.id)).all()


def monthly(db: Session, fund_id: int) -> dict[str, dict[str, Decimal]]:
    """Sums per month (YYYY-MM) and kind, from the sums the database keeps (LedgerMonth)."""
    out: dict[str, dict[str, Decimal]] = {}
    for month, kind, total in db.execute(select(LedgerMonth.month, LedgerMonth.kind, func.sum(LedgerMonth.total))
                                         .where(LedgerMonth.fund_id == fund_id, LedgerMonth.entries > 0)
                                         .group_by(LedgerMonth.month, LedgerMonth.kind)):
        out.setdefault(month, {})[kind] = total
    return dict(sorted(out.items()))


def paid_by_quarter(db: Session, fund_id: int) -> list[tuple[str, Decimal]]:
    """Paid out (net of returns) per Stadtteil, largest first."""
    totals: dict[str, Decimal] = {}
    rows = db.execute(select(Application.quarter, LedgerEntry.kind, func.sum(LedgerEntry.amount))
                      .join(Application, Application.id == LedgerEntry.application_id)
                      .where(LedgerEntry.fund_id == fund_id, LedgerEntry.kind.in_(("payout", "payout_return")))
                      .group_by(Application.quarter, LedgerEntry.kind))
    for quarter, kind, total in rows:
        totals[quarter or "–"] = totals.get(quarter or "–", Decimal("0.00")) + (total if kind == "payout" else -total)
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def open_counts(db: Session) -> dict[str, int]:
    def count(query: Select[tuple[int]]) -> int:
        return db.execute(query).scalar_one()

    return {
        "due": count(select(func.count()).select_from(Payout).where(Payout.state == "due")),
        "to_release": count(select(func.count()).select_from(PayoutRun).where(PayoutRun.state == "prepared")),
        "released": count(select(func.count()).select_from(Payout).where(Payout.state == "released")),
        "unmatched": count(select(func.count()).select_from(BankEntry).where(BankEntry.match_state == "unmatched")),
    }


CASE_KINDS = ("commitment", "commitment_release", "payout", "payout_return", "refund", "reclaim")


def reconciliation_problems(db: Session, fund_id: int, *, full: bool = False) -> list[str]:
    """Check the ledger against its invariants, per fund and per grant, and against the payouts.
    `full` also sums every entry to check the monthly sums (the CLI's check; not the start page)."""
    per_case: dict[str, dict[str, Decimal]] = {}
    # only the kinds that belong to grants: the index on kind passes over the donations, which are
    # most of a long ledger
    rows = db.execute(select(Application.file_number, LedgerEntry.kind, func.sum(LedgerEntry.amount))
                      .join(Application, Application.id == LedgerEntry.application_id)
                      .where(LedgerEntry.fund_id == fund_id, LedgerEntry.kind.in_(CASE_KINDS))
                      .group_by(Application.file_number, LedgerEntry.kind))
    for fn, kind, total in rows:
        per_case.setdefault(fn, {})[kind] = total
    zero = Decimal("0.00")
    cases = {fn: CaseMoney(k.get("commitment", zero) - k.get("commitment_release", zero),
                           k.get("payout", zero) - k.get("payout_return", zero), k.get("refund", zero),
                           k.get("reclaim", zero))
             for fn, k in per_case.items()}
    found = problems(balances(db, fund_id), cases)
    if full and balances(db, fund_id) != balances_from_entries(db, fund_id):
        found.append("the monthly sums differ from the ledger's entries")
    # every booked payout has exactly one payout entry in the ledger, and nothing else has one
    booked = {p.id for p in db.scalars(select(Payout).where(Payout.fund_id == fund_id, Payout.state == "booked"))}
    in_ledger = list(db.scalars(select(LedgerEntry.payout_id).where(
        LedgerEntry.fund_id == fund_id, LedgerEntry.kind == "payout")))
    returned = list(db.scalars(select(LedgerEntry.payout_id).where(
        LedgerEntry.fund_id == fund_id, LedgerEntry.kind == "payout_return")))
    net: dict[int | None, int] = {}
    for pid in in_ledger:
        net[pid] = net.get(pid, 0) + 1
    for pid in returned:
        net[pid] = net.get(pid, 0) - 1
    if None in net:
        found.append("a payout entry in the ledger names no payout")
        net.pop(None)
    still_paid = {pid for pid, n in net.items() if pid is not None and n > 0}
    if still_paid != booked:
        found.append(f"payouts booked {sorted(booked)} differ from the ledger's {sorted(still_paid)}")
    return found


def reclassify_donation(db: Session, actor, entry_id: int, kind: str, *, file_number: str = "", reason: str) -> LedgerEntry:
    """A credit booked as a donation was something else: reverse it (never edit) and book it anew."""

    actor.require(Perm.FINANCE_PREPARE)
    serialise(db)
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
        reclaims.refund_received(db, case.id)
    elif kind != "other":
        raise Invalid("Diese Zuordnung passt nicht zu der Buchung.")
    db.flush()
    # approvals voted but not yet bound by the decision flow count as spent: a vote must never
    # turn out to have been for money that a correction took away afterwards
    left = balances(db, entry.fund_id).available - approved_not_committed(db, entry.fund_id)
    if kind == "other" and left < 0:
        raise Conflict("Diese Umbuchung ist nicht möglich: Der Koordinierungsstab hat über dieses Geld schon "
                       "entschieden (es fehlten dann %(missing)s €).", missing=f"{-left:.2f}")
    audit.record(db, actor, "donation_reclassified", obj=entry, reason=reason.strip(),
                 data={"to": kind, "file_number": file_number})
    return new or entry


