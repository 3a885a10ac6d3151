"""Bank entries that the reconciliation could not place wait here for a person (audited)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain.roles import Perm
from grants.models import Application, BankEntry, BankStatement, LedgerEntry, Payout
from grants.services import audit, ledger, reclaims
from grants.services.actor import Actor
from grants.services.errors import Conflict, Invalid, NotFound
from grants.services.statements import follow_money

# what a person may say an entry is
CREDIT_CHOICES = ("donation", "refund", "other")
DEBIT_CHOICES = ("payout", "other")


def open_items(db: Session, limit: int = 200) -> list[BankEntry]:
    return list(db.scalars(select(BankEntry).where(BankEntry.match_state == "unmatched")
                           .order_by(BankEntry.booking_date, BankEntry.id).limit(limit)))


def assign(db: Session, actor: Actor, entry_id: int, kind: str, *, file_number: str = "",
           payout_id: int | None = None, note: str = "") -> BankEntry:
    actor.require(Perm.FINANCE_PREPARE)
    ledger.serialise(db)          # two clicks or two clerks: the second finds it assigned
    entry = db.get(BankEntry, entry_id)
    if entry is None:
        raise NotFound("Diese Buchung gibt es nicht.")
    if entry.match_state != "unmatched":
        raise Conflict("Diese Buchung ist schon zugeordnet.")
    allowed = CREDIT_CHOICES if entry.credit else DEBIT_CHOICES
    if kind not in allowed:
        raise Invalid("Diese Zuordnung passt nicht zu der Buchung.")
    if entry.amount <= 0 and kind != "other":
        raise Invalid("Eine Buchung über 0,00 € bewegt kein Geld; ordnen Sie sie bitte als „Sonstiges“ zu.")
    statement = db.get_one(BankStatement, entry.statement_id)
    booked_on = entry.booking_date or clock.today()
    base = {"fund_id": statement.fund_id, "amount": entry.amount, "booked_on": booked_on, "bank_entry_id": entry.id,
            "created_by_id": actor.user_id}
    if kind == "donation":
        db.add(LedgerEntry(kind="donation", donor=entry.counterparty_name or "unbekannt",
                           purpose=entry.remittance, **base))
    elif kind == "refund":
        case = db.scalar(select(Application).where(Application.file_number == file_number.strip().upper()))
        if case is None:
            raise Invalid("Kein Antrag mit diesem Aktenzeichen.")
        entry.application_id = case.id
        db.add(LedgerEntry(kind="refund", application_id=case.id, donor=entry.counterparty_name,
                           purpose=entry.remittance, **base))
        db.flush()

        reclaims.refund_received(db, case.id)
    elif kind == "payout":
        payout = db.get(Payout, payout_id) if payout_id else None
        if payout is None or payout.state != "sent" or payout.amount != entry.amount:
            raise Invalid("Bitte wählen Sie eine versandte Auszahlung mit demselben Betrag.")
        payout.state, payout.booked_on = "booked", booked_on
        entry.payout_id, entry.application_id = payout.id, payout.application_id
        db.add(LedgerEntry(kind="payout", application_id=payout.application_id, payout_id=payout.id,
                           purpose=payout.remittance, **base))

        db.flush()
        follow_money(db, "pay", payout.application_id, "")
    elif kind == "other" and not note.strip():
        raise Invalid("Bitte sagen Sie kurz, was diese Buchung ist.")
    entry.match_state = "assigned" if kind != "other" else "ignored"
    entry.match_kind = kind
    entry.assigned_by_id, entry.assigned_at = actor.user_id, clock.now()
    audit.record(db, actor, "bank_entry_assigned", obj=entry, application_id=entry.application_id,
                 reason=note.strip(), data={"kind": kind, "amount": str(entry.amount)})
    return entry
