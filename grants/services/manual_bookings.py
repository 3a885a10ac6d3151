"""Bookings finance enters by hand: a donation received outside the bank statement (cash, a
cheque) and a credit booked as a donation that was something else. Each form carries a key of its
own, so a double click, a reload or two tabs book once. From the fund's `four_eyes_from` on, a
booking waits until a second finance person confirms it; below that it is booked at once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain.money import fmt_plain
from grants.domain.roles import Perm
from grants.models import Fund, LedgerEntry, ManualBooking, User
from grants.services import audit, ledger
from grants.services import fund as fund_service
from grants.services.actor import Actor
from grants.services.errors import Conflict, Forbidden, Invalid, NotFound

# Above this a typing error is far more likely than a gift; such sums come through the bank.
MAX_MANUAL = Decimal("1000000.00")


def _existing(db: Session, actor: Actor, request_key: str) -> ManualBooking | None:
    if not request_key or len(request_key) > 64:
        raise Invalid("Das Formular ist abgelaufen. Bitte laden Sie die Seite neu.")
    found = db.scalar(select(ManualBooking).where(ManualBooking.request_key == request_key))
    if found is not None and found.proposed_by_id != actor.user_id:
        raise Conflict("Das Formular ist abgelaufen. Bitte laden Sie die Seite neu.")
    return found


def propose_donation(db: Session, actor: Actor, fund_id: int, request_key: str, *, donor: str,
                     booked_on: date, amount: Decimal, purpose: str = "") -> ManualBooking:
    actor.require(Perm.FINANCE_PREPARE)
    if amount <= 0:
        raise Invalid("Der Betrag muss größer als 0 sein.")
    if amount > MAX_MANUAL:
        raise Invalid("Beträge über %(max)s € werden nicht von Hand gebucht, sondern über den Kontoauszug.",
                      max=fmt_plain(MAX_MANUAL))
    if not donor.strip():
        raise Invalid("Bitte geben Sie an, wer gespendet hat.")
    if booked_on > clock.today():
        raise Invalid("Das Eingangsdatum liegt in der Zukunft.")
    ledger.serialise(db)
    found = _existing(db, actor, request_key)
    if found is not None:
        return found                                   # the same form sent twice
    booking = ManualBooking(request_key=request_key, fund_id=fund_id, action="donation", amount=amount,
                            params={"donor": donor.strip()[:200], "booked_on": booked_on.isoformat(),
                                    "purpose": purpose.strip()},
                            proposed_by_id=actor.user_id)
    return _book_or_wait(db, actor, booking)


def propose_reclassification(db: Session, actor: Actor, request_key: str, entry_id: int, kind: str, *,
                             file_number: str = "", reason: str) -> ManualBooking:
    actor.require(Perm.FINANCE_PREPARE)
    if not reason.strip():
        raise Invalid("Bitte geben Sie eine Begründung an.")
    if kind not in ("refund", "other"):
        raise Invalid("Diese Zuordnung passt nicht zu der Buchung.")
    ledger.serialise(db)
    found = _existing(db, actor, request_key)
    if found is not None:
        return found
    entry = db.get(LedgerEntry, entry_id)
    if entry is None or entry.kind != "donation":
        raise NotFound("Diese Spende gibt es nicht.")
    if db.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)) is not None:
        raise Conflict("Diese Buchung ist schon storniert.")
    for other in db.scalars(select(ManualBooking).where(ManualBooking.action == "reclassify",
                                                        ManualBooking.state == "pending")):
        if other.params.get("entry_id") == entry.id:
            raise Conflict("Für diese Spende wartet schon eine Umbuchung auf die zweite Person.")
    booking = ManualBooking(request_key=request_key, fund_id=entry.fund_id, action="reclassify", amount=entry.amount,
                            params={"entry_id": entry.id, "kind": kind, "file_number": file_number.strip(),
                                    "reason": reason.strip()},
                            proposed_by_id=actor.user_id)
    return _book_or_wait(db, actor, booking)


def _book_or_wait(db: Session, actor: Actor, booking: ManualBooking) -> ManualBooking:
    fund = db.get_one(Fund, booking.fund_id)
    db.add(booking)
    db.flush()
    if booking.amount < fund.four_eyes_from:
        _book(db, actor, booking)
    else:
        audit.record(db, actor, "manual_booking_proposed", obj=booking,
                     data={"action": booking.action, "amount": fmt_plain(booking.amount)})
    return booking


def _book(db: Session, actor: Actor, booking: ManualBooking) -> None:
    p = booking.params
    if booking.action == "donation":
        entry = fund_service.record_donation(db, actor, booking.fund_id, p["donor"], date.fromisoformat(p["booked_on"]),
                                             booking.amount, p.get("purpose", ""))
    else:
        entry = fund_service.reclassify_donation(db, actor, p["entry_id"], p["kind"], file_number=p["file_number"],
                                                 reason=p["reason"])
    booking.state, booking.ledger_entry_id = "booked", entry.id
    booking.decided_at = clock.now()
    if booking.proposed_by_id != actor.user_id:
        booking.decided_by_id = actor.user_id


def confirm(db: Session, actor: Actor, booking_id: int) -> ManualBooking:
    """The second pair of eyes books what a colleague entered."""
    actor.require(Perm.FINANCE_RELEASE)
    ledger.serialise(db)
    booking = db.get(ManualBooking, booking_id)
    if booking is None:
        raise NotFound("Diese Buchung gibt es nicht.")
    if booking.state != "pending":
        raise Conflict("Über diese Buchung ist schon entschieden.")
    if booking.proposed_by_id == actor.user_id:
        raise Forbidden("Vier-Augen-Prinzip: Wer die Buchung erfasst hat, darf sie nicht bestätigen.")
    _book(db, actor, booking)
    audit.record(db, actor, "manual_booking_confirmed", obj=booking,
                 data={"action": booking.action, "amount": fmt_plain(booking.amount)})
    return booking


def refuse(db: Session, actor: Actor, booking_id: int, note: str) -> ManualBooking:
    """Not booked: refused by the second person, or taken back by the one who entered it."""
    actor.require(Perm.FINANCE_PREPARE)
    if not note.strip():
        raise Invalid("Bitte geben Sie eine Begründung an.")
    ledger.serialise(db)
    booking = db.get(ManualBooking, booking_id)
    if booking is None:
        raise NotFound("Diese Buchung gibt es nicht.")
    if booking.state != "pending":
        raise Conflict("Über diese Buchung ist schon entschieden.")
    booking.state, booking.decided_by_id, booking.decided_at = "refused", actor.user_id, clock.now()
    booking.decision_note = note.strip()
    audit.record(db, actor, "manual_booking_refused", obj=booking, reason=note.strip(),
                 data={"action": booking.action, "amount": fmt_plain(booking.amount)})
    return booking


def set_four_eyes_from(db: Session, actor: Actor, fund_id: int, amount: Decimal) -> Fund:
    """The admin sets from which amount a booking by hand needs a second person (0: always)."""
    actor.require(Perm.ADMIN_SYSTEM)
    if amount < 0 or amount > MAX_MANUAL:
        raise Invalid("Bitte geben Sie einen Betrag zwischen 0 und %(max)s € an.", max=fmt_plain(MAX_MANUAL))
    fund = db.get(Fund, fund_id)
    if fund is None:
        raise NotFound("Diesen Fonds gibt es nicht.")
    before = fund.four_eyes_from
    fund.four_eyes_from = amount
    audit.record(db, actor, "four_eyes_threshold_set", obj=fund,
                 data={"from": fmt_plain(before), "to": fmt_plain(amount)})
    return fund


def pending(db: Session) -> list[tuple[ManualBooking, str | None]]:
    """Bookings waiting for a second person, each with the address of whoever entered it."""
    return [(b, email) for b, email in db.execute(
        select(ManualBooking, User.email).outerjoin(User, User.id == ManualBooking.proposed_by_id)
        .where(ManualBooking.state == "pending").order_by(ManualBooking.id))]
