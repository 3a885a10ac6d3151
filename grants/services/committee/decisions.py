"""The decision flow's work after a sitting closes: one decision per item, money bound, cases moved,
applicants told, the decision letters queued."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain.workflow import State
from grants.models import (
    AgendaItem,
    Decision,
    Program,
    Sitting,
    Vote,
)
from grants.services import audit, cases, jobs, ledger, messenger
from grants.services.actor import Actor
from grants.services.committee import sessions
from grants.services.letters import report_due


def record_decisions(db: Session, session_id: int) -> dict:
    """The decision flow's work: one decision per item, funds committed, cases moved, applicants
    told. Safe to re-run: an item with a decision is skipped."""
    m = sessions.get_sitting(db, session_id)
    if m.state != "closed":
        return {"session": session_id, "skipped": "not closed"}
    system = Actor.system("decisions")
    ledger.serialise(db)
    done = 0
    for item in db.scalars(select(AgendaItem).where(AgendaItem.session_id == m.id).order_by(AgendaItem.position)):
        if db.scalar(select(Decision.id).where(Decision.agenda_item_id == item.id)) is not None:
            continue
        case = item.application
        if case.state == State.WITHDRAWN.value:
            void_for_withdrawal(db, system, item)
            continue
        counts = dict(db.execute(select(Vote.choice, func.count()).where(Vote.agenda_item_id == item.id)
                                 .group_by(Vote.choice)).tuples().all())
        outcome = item.outcome or "defer"
        amount = item.motion_amount if outcome in ("approve", "approve_partly") else None
        if amount is not None and amount > ledger.balances(
                db, ledger.fund_for_program(db, case.program_id).id).available:
            # the checks in the session count every approval; this is the last guard (two sessions
            # at once): no money is bound that is not there, and the flow does not fail for ever
            audit.record(db, system, "approval_deferred_for_money", obj=item, application_id=case.id,
                         data={"amount": str(amount)})
            outcome, amount = "defer", None
            item.outcome = "defer"
            item.motion_reasons = ("Bewilligt, aber der Fonds reichte bei der Buchung nicht; der Antrag kommt "
                                   "in die nächste Sitzung.")
        if amount is not None:
            ledger.commit_grant(db, system, case.id, amount)
            case.report_due_on = report_due(case, db.get_one(Program, case.program_id))
        db.add(Decision(application_id=case.id, agenda_item_id=item.id, kind=outcome, amount=amount,
                        reasons=item.motion_reasons, votes_yes=counts.get("yes", 0), votes_no=counts.get("no", 0),
                        votes_abstain=counts.get("abstain", 0)))
        if case.state == State.ON_AGENDA.value:
            cases.transition(db, case, outcome, system, reason=item.motion_reasons or "",
                             data={"session": m.number, "amount": str(amount) if amount else None})
        tell_applicant(db, case, outcome, m)
        done += 1
    decided = list(db.scalars(select(AgendaItem.application_id)
                              .join(Decision, Decision.agenda_item_id == AgendaItem.id)
                              .where(AgendaItem.session_id == m.id,
                                     Decision.kind.in_(("approve", "approve_partly", "reject")))))
    if decided:
        jobs.enqueue(db, "decision_letters", f"decision_letters:{m.id}", case_ids=decided)
    return {"session": session_id, "decisions": done}


WITHDRAWN_NOTE = ("Der Antrag wurde vor Abschluss der Sitzung zurückgezogen; der Beschluss wird nicht vollzogen "
                  "(kein Bescheid, keine Mittelbindung).")


def void_for_withdrawal(db: Session, system: Actor, item: AgendaItem) -> None:
    """An application can be withdrawn until it is decided: a Bescheid needs an application
    (§ 22 S. 2 Nr. 2 VwVfG) and takes effect only when it is notified (§ 43 VwVfG). A vote taken
    before the withdrawal stays in the minutes; nothing is bound, no letter goes out."""
    db.add(Decision(application_id=item.application_id, agenda_item_id=item.id, kind="withdrawn", amount=None,
                    reasons=WITHDRAWN_NOTE))
    audit.record(db, system, "decision_void_withdrawn", obj=item, application_id=item.application_id,
                 data={"outcome": item.outcome})


def tell_applicant(db: Session, case, outcome: str, m: Sitting) -> None:

    words = {"approve": "bewilligt", "approve_partly": "teilweise bewilligt", "reject": "abgelehnt",
             "defer": "auf die nächste Sitzung vertagt"}[outcome]
    for email in messenger.organisation_recipients(db, case.organisation_id):
        messenger.send(db, key=f"decision:{case.id}:{m.id}:{email}", to=email, template="decision_notice",
                       application_id=case.id, subject=f"Entscheidung zu Ihrem Antrag {case.file_number}",
                       body=(f"Guten Tag,\n\nder Koordinierungsstab Integration hat in seiner Sitzung am "
                             f"{clock.local(m.starts_at).strftime('%d.%m.%Y')} über Ihren Antrag „{case.title}“ beraten: "
                             f"Er wurde {words}.\n"
                             + ("Den schriftlichen Bescheid erhalten Sie in Kürze; erst er ist verbindlich.\n"
                                if outcome != "defer" else "")
                             + "\nStadt Osnabrück – Fachdienst Integration"))
