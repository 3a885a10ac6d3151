"""Settling one grant after the proof of use: what is still to pay, and winding up the part that
is not kept (unpaid instalments cancelled, their commitment released)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants.domain import proof
from grants.models import Application, LedgerEntry, Payout
from grants.services import audit, ledger
from grants.services.actor import Actor
from grants.services.errors import Conflict

ZERO = Decimal("0.00")


def last_payout_day(db: Session, case_id: int) -> date | None:
    return db.scalar(select(func.max(Payout.booked_on)).where(Payout.application_id == case_id,
                                                              Payout.state == "booked"))


def settlement(db: Session, case: Application, unspent: Decimal) -> proof.Settlement:
    return proof.settle(case.granted or ZERO, ledger.paid(db, case.id), unspent)


def wind_up(db: Session, actor: Actor, case: Application, s: proof.Settlement, booked_on: date) -> None:
    """Pay no more than `s.still_to_pay`: due instalments beyond it are cancelled or lowered and
    their commitment released. Payouts on their way to the bank must be booked first."""
    moving = db.scalar(select(func.count()).select_from(Payout).where(
        Payout.application_id == case.id, Payout.state.in_(("released", "sent"))))
    if moving:
        raise Conflict("Eine Auszahlung ist gerade unterwegs. Bitte warten Sie, bis sie auf dem Kontoauszug gebucht ist.")
    remaining = s.still_to_pay
    for p in db.scalars(select(Payout).where(Payout.application_id == case.id, Payout.state == "due")
                        .order_by(Payout.instalment, Payout.id)):
        if remaining >= p.amount:
            remaining -= p.amount
        elif remaining > ZERO:
            p.note = f"{p.note} Nach Verwendungsnachweis gekürzt von {p.amount:.2f} €.".strip()
            p.amount, remaining = remaining, ZERO
        else:
            p.state = "cancelled"
    if s.release > ZERO:
        entry = LedgerEntry(fund_id=ledger.fund_for_program(db, case.program_id).id, kind="commitment_release", amount=s.release,
                            booked_on=booked_on, application_id=case.id,
                            purpose=f"Nicht benötigt laut Verwendungsnachweis {case.file_number}",
                            created_by_id=actor.user_id)
        db.add(entry)
        db.flush()
        audit.record(db, actor, "commitment_released", obj=entry, application_id=case.id,
                     data={"amount": f"{s.release:.2f}"})


