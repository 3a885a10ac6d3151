"""Reclaim (Rückforderung, §§ 49, 49a VwVfG): staff revoke the grant in part or in whole, the
amount and its interest are fixed in a Rückforderungsbescheid and expected in the ledger; the
refund is matched on the bank statement and settles the case."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.documents import render
from grants.domain import deadlines, program_rules
from grants.domain.roles import Perm
from grants.domain.workflow import State
from grants.models import Application, Decision, Fund, LedgerEntry, Organisation, Program, Reclaim
from grants.services import cases, grant_money, jobs, ledger, proofs
from grants.services.actor import Actor
from grants.services.errors import Conflict, Invalid

LETTER_FLOW = "reclaim_letter"
BASE_RATES = Path(__file__).resolve().parents[1] / "base_rates.toml"
ZERO = Decimal("0.00")


def base_rates(program: Program | None = None) -> list[deadlines.BaseRate]:
    rates = program.typed_rules.base_rates if program is not None else ()
    if not rates:
        rates = program_rules.parse_base_rates(tomllib.loads(BASE_RATES.read_text(encoding="utf-8"))["rates"],
                                               key=BASE_RATES.name)
    return list(rates)


def base_rate_outdated(rates: list[deadlines.BaseRate], today: date) -> bool:
    """The Bundesbank publishes every six months; an older newest rate means the file needs a line."""
    return not rates or (today - rates[-1].valid_from).days > 190


def proposal(db: Session, case: Application) -> Decimal:
    """What the arithmetic check says is to be paid back (the staff may decide otherwise)."""
    p = proofs.proof_of(db, case)
    unspent = proofs.check_of(db, case, p).unspent if p is not None and p.state != "draft" else ZERO
    return grant_money.settlement(db, case, unspent).reclaim


def start(db: Session, actor: Actor, case_id: int, *, amount: str | Decimal, reasons: str, waive_interest: bool = False,
          today: date | None = None) -> Reclaim:
    """Revoke and reclaim `amount` of what was paid: the reclaim with its interest, the expected
    refund in the ledger, unpaid instalments cancelled, and the Rückforderungsbescheid asked for."""
    actor.require(Perm.CHECK_PROOF)
    today = today or clock.today()
    case = cases.get_case(db, actor, case_id, for_update=True)
    if case.state not in (State.REPORT_SUBMITTED.value, State.REPORT_DUE.value):
        raise Conflict("Eine Rückforderung ist in diesem Stand des Antrags nicht möglich.")
    if not reasons.strip():
        raise Invalid("Bitte begründen Sie die Rückforderung (§ 39 VwVfG).")
    try:
        amount = Decimal(str(amount).replace(",", ".")) if not isinstance(amount, Decimal) else amount
    except InvalidOperation:
        raise Invalid("Bitte geben Sie einen Betrag wie 250,00 an.") from None
    paid = ledger.paid(db, case.id)
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise Invalid("Bitte geben Sie einen Betrag wie 250,00 an.")
    if amount > paid:
        raise Invalid("Zurückgefordert werden kann höchstens, was ausgezahlt wurde (%(paid)s €).",
                      paid=f"{paid:.2f}".replace(".", ","))
    program = db.get_one(Program, case.program_id)
    rates = base_rates(program)
    interest_from = grant_money.last_payout_day(db, case.id) or today
    pay_by = today + timedelta(days=program.typed_rules.reclaim_pay_days)
    interest = ZERO if waive_interest else deadlines.interest(amount, interest_from, pay_by, rates)
    # interest runs for every day before the payment date, so the last day counted is the one before
    # it: the letter's "bis zum" names that day
    reclaim = Reclaim(application_id=case.id, principal=amount, interest=interest, interest_from=interest_from,
                      interest_until=pay_by - timedelta(days=1), pay_by=pay_by, reasons=reasons.strip(),
                      created_by_id=actor.user_id)
    db.add(reclaim)
    p = proofs.proof_of(db, case)
    unspent_total = (case.granted or ZERO) - (paid - amount)
    grant_money.wind_up(db, actor, case, grant_money.settlement(db, case, unspent_total), today)
    if p is not None:
        p.state, p.checked_by_id, p.checked_at, p.check_note = "reclaim", actor.user_id, clock.now(), reasons.strip()
    fund_id = ledger.fund_for_program(db, case.program_id).id
    db.add(LedgerEntry(fund_id=fund_id, kind="reclaim", amount=reclaim.total, booked_on=today, application_id=case.id,
                       purpose=f"Rückforderung {case.file_number}: {amount:.2f} € und Zinsen {interest:.2f} €",
                       created_by_id=actor.user_id))
    db.flush()
    cases.transition(db, case, "start_reclaim", actor, reason=reasons.strip()[:500],
                     data={"principal": f"{amount:.2f}", "interest": f"{interest:.2f}", "pay_by": pay_by.isoformat()})
    jobs.enqueue(db, LETTER_FLOW, f"{LETTER_FLOW}:{case.id}", case_id=case.id)
    return reclaim


def reclaim_of(db: Session, case_id: int) -> Reclaim | None:
    return db.scalar(select(Reclaim).where(Reclaim.application_id == case_id))


def outstanding(db: Session, case_id: int, r: Reclaim | None = None) -> Decimal | None:
    r = r or reclaim_of(db, case_id)
    if r is None:
        return None
    return _left(db, case_id, r)


def _left(db: Session, case_id: int, r: Reclaim) -> Decimal:
    return max(r.total - ledger.refunded(db, case_id), ZERO)


def refund_received(db: Session, case_id: int) -> bool:
    """A refund for the case was booked: once the claim is paid in full, the case is closed."""
    case = db.get(Application, case_id)
    r = reclaim_of(db, case_id)
    if case is None or r is None or case.state != State.RECLAIM.value or _left(db, case_id, r) > 0:
        return False
    _settle(db, Actor.system("reconciliation"), case, r, "Rückzahlung vollständig eingegangen")
    return True


def settle_by_hand(db: Session, actor: Actor, case_id: int, note: str) -> Application:
    """Finance closes a reclaim that is not paid in full, e.g. interest waived (§ 49a Abs. 3 Satz 2
    VwVfG) or the rest written off by decision; always with a reason."""
    actor.require(Perm.FINANCE_RELEASE)
    if not note.strip():
        raise Invalid("Bitte geben Sie eine Begründung an.")
    case = cases.get_case(db, actor, case_id, for_update=True)
    r = reclaim_of(db, case_id)
    if case.state != State.RECLAIM.value or r is None:
        raise Conflict("Für diesen Antrag ist keine Rückforderung offen.")
    _settle(db, actor, case, r, note.strip(), waived=_left(db, case_id, r))
    return case


def _settle(db: Session, actor: Actor, case: Application, r: Reclaim, note: str, waived: Decimal = ZERO) -> None:
    r.settled_at, r.settled_note = clock.now(), note
    if waived > 0:
        # the claim start() booked: there is one while the reclaim is open
        original = db.scalars(select(LedgerEntry).where(LedgerEntry.application_id == case.id, LedgerEntry.kind == "reclaim")
                              .order_by(LedgerEntry.id.desc()).limit(1)).one()
        # the receivable is corrected by reversing the claim and booking what was really owed
        db.add(LedgerEntry(fund_id=original.fund_id, kind="reversal", amount=original.amount, booked_on=clock.today(),
                           reverses_id=original.id, application_id=case.id, purpose=note, created_by_id=actor.user_id))
        if original.amount - waived > 0:
            db.add(LedgerEntry(fund_id=original.fund_id, kind="reclaim", amount=original.amount - waived,
                               booked_on=clock.today(), application_id=case.id, purpose=f"{original.purpose} (Rest erlassen)",
                               created_by_id=actor.user_id))
    cases.transition(db, case, "settle_reclaim", actor, reason=note[:500], data={"waived": f"{waived:.2f}"})
    case.closed_at = clock.now()


def letter_data(db: Session, case_id: int) -> dict | None:
    """The Rückforderungsbescheid's contents; None when there is no reclaim."""

    case, r = db.get(Application, case_id), reclaim_of(db, case_id)
    if case is None or r is None:
        return None
    org = db.get_one(Organisation, case.organisation_id)
    fund = db.get_one(Fund, db.get_one(Program, case.program_id).fund_id)
    decision = db.scalar(select(Decision).where(Decision.application_id == case_id)
                         .order_by(Decision.decided_at.desc(), Decision.id.desc()).limit(1))
    fmt, euro = render.german_date, render.euro
    return {
        "recipient": [x for x in (org.name, org.street, f"{org.postcode} {org.city}".strip()) if x],
        "today": fmt(clock.local_date(r.created_at)), "file_number": case.file_number, "title": case.title,
        "decided_on": fmt(clock.local_date(decision.decided_at)) if decision else "–", "amount": euro(case.granted or ZERO),
        "reclaim_amount": euro(r.principal), "reasons": r.reasons, "interest_from": fmt(r.interest_from),
        "interest_until": fmt(r.interest_until), "interest": euro(r.interest), "interest_waived": r.interest == 0,
        "total": euro(r.total), "pay_by": fmt(r.pay_by), "fund_iban": _grouped(fund.iban),
        "principal_plain": f"{r.principal:.2f}", "interest_plain": f"{r.interest:.2f}",
    }


def _grouped(iban: str) -> str:
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
