"""Paying out grants: planning payouts, a payout run prepared by one person and released by
another (four eyes), and the SEPA file for the bank."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants import clock
from grants.banking import pain
from grants.domain.roles import Perm
from grants.domain.sepa import end_to_end_id, missing_payee_details, remittance_for
from grants.domain.workflow import State
from grants.models import Application, Fund, Organisation, Payout, PayoutRun, Program
from grants.services import audit, ledger
from grants.services.actor import Actor
from grants.services.errors import Conflict, Forbidden, Invalid, NotFound

OPEN_STATES = ("due", "released", "sent", "booked")
# a grant is paid once its letter went out; a payout the bank returned later (the project ran, the
# proof is due) is owed again. Closed cases and reclaims are settled by a person.
PAYABLE_STATES = tuple(s.value for s in (State.LETTER_SENT, State.PAID, State.REPORT_DUE, State.REPORT_SUBMITTED))


def owed(db: Session, case: Application) -> Decimal:
    """What is still to be paid on a grant: granted minus payouts booked or under way."""
    paid_or_open = db.scalar(select(func.coalesce(func.sum(Payout.amount), 0))
                             .where(Payout.application_id == case.id, Payout.state.in_(OPEN_STATES)))
    return (case.granted or Decimal("0.00")) - Decimal(paid_or_open or 0)


def instalments(total: Decimal, shares: Sequence[int] | None) -> list[Decimal]:
    """Split `total` by percentage shares; the last instalment takes the rounding cent."""
    shares = shares or [100]
    if sum(shares) != 100 or any(s <= 0 for s in shares):
        raise Invalid("Die Raten müssen zusammen 100 Prozent ergeben.")
    parts = [(total * s / 100).quantize(Decimal("0.01")) for s in shares[:-1]]
    return parts + [total - sum(parts, Decimal("0.00"))]


def plan(db: Session, actor: Actor) -> list[Payout]:
    """Create due payouts for every granted case whose decision letter went out and that is
    still owed money (also after a returned payout, to the organisation's current account)."""
    if not actor.is_system:
        actor.require(Perm.FINANCE_PREPARE)
    ledger.serialise(db)          # a second click waits, then finds nothing owed
    created = []
    for case, org, program in _owed_cases(db):
        amount = owed(db, case)
        if amount <= 0 or _not_payable(org):
            continue  # the latter listed for finance by `blocked`
        existing = db.execute(select(func.count()).select_from(Payout).where(Payout.application_id == case.id)).scalar_one()
        shares = program.typed_rules.instalments if existing == 0 else None
        for n, part in enumerate(instalments(amount, shares), start=existing + 1):
            p = Payout(application_id=case.id, fund_id=program.fund_id, instalment=n, amount=part,
                       iban=org.iban, bic=org.bic, account_holder=org.account_holder,
                       remittance=remittance_for(case.file_number), end_to_end_id=f"tmp-{case.id}-{n}",
                       state="due", due_on=clock.today())
            db.add(p)
            db.flush()
            p.end_to_end_id = end_to_end_id(case.file_number, p.id)
            audit.record(db, actor, "payout_planned", obj=p, application_id=case.id,
                         data={"amount": str(part), "instalment": n})
            created.append(p)
    return created


def _owed_cases(db: Session):
    return db.execute(select(Application, Organisation, Program)
                      .join(Organisation, Organisation.id == Application.organisation_id)
                      .join(Program, Program.id == Application.program_id)
                      .where(Application.state.in_(PAYABLE_STATES), Application.granted.is_not(None))
                      .order_by(Application.id)).all()


BANK_UNCONFIRMED = "Bestätigung der geänderten Bankverbindung durch die Finanzen"


def _not_payable(org: Organisation) -> list[str]:
    """What stands between this organisation and a payout: details it has not given, or a changed
    account finance has not confirmed yet."""
    missing = missing_payee_details(org)
    if org.bank_changed_at is not None:
        missing.append(BANK_UNCONFIRMED)
    return missing


@dataclass(frozen=True)
class Blocked:
    case_id: int
    file_number: str
    organisation: str
    owed: Decimal
    missing: list[str]
    organisation_id: int = 0
    bank_unconfirmed: bool = False
    iban: str = ""
    account_holder: str = ""


def blocked(db: Session) -> list[Blocked]:
    """Grants still owed that cannot be paid yet, with what the organisation has to add first."""
    out = []
    for case, org, _ in _owed_cases(db):
        missing = _not_payable(org)
        if missing:
            amount = owed(db, case)
            if amount > 0:
                out.append(Blocked(case.id, case.file_number, org.name, amount, missing, org.id,
                                   org.bank_changed_at is not None, org.iban or "", org.account_holder or ""))
    return out


def prepare_run(db: Session, actor: Actor, payout_ids: list[int] | None = None) -> PayoutRun:
    actor.require(Perm.FINANCE_PREPARE)
    ledger.serialise(db)
    stmt = select(Payout).where(Payout.state == "due", Payout.run_id.is_(None))
    if payout_ids is not None:
        stmt = stmt.where(Payout.id.in_(payout_ids))
    payouts = db.scalars(stmt.order_by(Payout.id)).all()
    if not payouts:
        raise Conflict("Es gibt keine fälligen Auszahlungen für einen Zahllauf.")
    run = PayoutRun(fund_id=payouts[0].fund_id, prepared_by_id=actor.user_id)
    db.add(run)
    db.flush()
    for p in payouts:
        p.run_id = run.id
    audit.record(db, actor, "payout_run_prepared", obj=run, data={"payouts": [p.id for p in payouts]})
    return run


def release_run(db: Session, actor: Actor, run_id: int) -> PayoutRun:
    """The second pair of eyes: somebody other than the preparer releases the run."""
    actor.require(Perm.FINANCE_RELEASE)
    ledger.serialise(db)
    run = db.get(PayoutRun, run_id)
    if run is None:
        raise NotFound("Diesen Zahllauf gibt es nicht.")
    if run.state == "cancelled":
        raise Conflict("Dieser Zahllauf ist storniert.")
    if run.state != "prepared":
        raise Conflict("Dieser Zahllauf ist schon freigegeben.")
    if run.prepared_by_id == actor.user_id:
        raise Forbidden("Vier-Augen-Prinzip: Wer den Zahllauf vorbereitet hat, darf ihn nicht freigeben.")
    run.state, run.released_by_id, run.released_at = "released", actor.user_id, clock.now()
    for p in db.scalars(select(Payout).where(Payout.run_id == run.id, Payout.state == "due")):
        p.state = "released"
    audit.record(db, actor, "payout_run_released", obj=run)
    return run


def cancel_run(db: Session, actor: Actor, run_id: int, reason: str) -> PayoutRun:
    """Take back a run that is prepared or released but not yet in a SEPA file: its payouts are
    due again and can go into another run. A run in a file is with the bank and stays."""
    actor.require(Perm.FINANCE_PREPARE)
    if not reason.strip():
        raise Invalid("Bitte geben Sie eine Begründung an.")
    ledger.serialise(db)
    run = db.get(PayoutRun, run_id)
    if run is None:
        raise NotFound("Diesen Zahllauf gibt es nicht.")
    if run.state == "cancelled":
        raise Conflict("Dieser Zahllauf ist schon storniert.")
    if run.state not in ("prepared", "released"):
        raise Conflict("Dieser Zahllauf ist schon an die Bank übergeben und kann nicht mehr storniert werden.")
    back = []
    for p in db.scalars(select(Payout).where(Payout.run_id == run.id, Payout.state.in_(("due", "released")))):
        p.state, p.run_id = "due", None
        back.append(p.id)
    run.state = "cancelled"
    audit.record(db, actor, "payout_run_cancelled", obj=run, reason=reason.strip(), data={"payouts": back})
    return run


def run_totals(db: Session, run_ids: Sequence[int]) -> dict[int, tuple[int, Decimal]]:
    """How many payouts each run holds and their sum, for the person who releases it."""
    rows = db.execute(select(Payout.run_id, func.count(), func.sum(Payout.amount))
                      .where(Payout.run_id.in_(run_ids)).group_by(Payout.run_id))
    return {run_id: (n, Decimal(total or 0)) for run_id, n, total in rows}


@dataclass
class PayoutFile:
    path: Path | None
    message_id: str | None
    count: int
    total: Decimal


def next_business_day(d: date) -> date:
    d = d + timedelta(days=1)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def write_file(db: Session, actor: Actor, out: Path, *, execution_date: date | None = None) -> PayoutFile:
    """pain.001.001.09 for every released payout not yet sent; marks them sent. The file is
    written next to its target and renamed into place only if everything else worked."""
    if not actor.is_system:
        actor.require(Perm.FINANCE_RELEASE)
    ledger.serialise(db)          # two clicks never put one payout into two files
    rows = db.execute(select(Payout, Application, Organisation, Fund)
                      .join(Application, Application.id == Payout.application_id)
                      .join(Organisation, Organisation.id == Application.organisation_id)
                      .join(Fund, Fund.id == Payout.fund_id)
                      .where(Payout.state == "released").order_by(Payout.fund_id, Payout.id)).all()
    if not rows:
        return PayoutFile(None, None, 0, Decimal("0.00"))
    funds = {f.id for _, _, _, f in rows}
    if len(funds) > 1:
        raise Conflict("Freigegebene Auszahlungen aus mehreren Fonds: bitte je Fonds eine Datei erzeugen.")
    fund = rows[0][3]
    transfers = [pain.Transfer(end_to_end_id=p.end_to_end_id, amount=p.amount, name=p.account_holder, iban=p.iban,
                               bic=p.bic, remittance=p.remittance, street=org.street, postcode=org.postcode,
                               town=org.city, country=org.country)
                 for p, _, org, _ in rows]
    xml, msg_id = pain.build(pain.Debtor(fund.account_holder, fund.iban, fund.bic), transfers,
                             execution_date or next_business_day(clock.today()))
    now = clock.now()
    run_ids = {p.run_id for p, _, _, _ in rows if p.run_id}
    for p, _, _, _ in rows:
        p.state, p.sent_at = "sent", now
    for run in db.scalars(select(PayoutRun).where(PayoutRun.id.in_(run_ids))):
        run.state, run.sent_at, run.message_id, run.file_path = "sent", now, msg_id[:35], str(out)
    audit.record(db, actor, "payout_file_written", data={"message_id": msg_id, "file": str(out),
                                                         "payouts": [p.id for p, _, _, _ in rows]})
    db.flush()
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_bytes(xml)
    try:
        tmp.replace(out)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    return PayoutFile(out, msg_id, len(rows), sum((p.amount for p, _, _, _ in rows), Decimal("0.00")))
