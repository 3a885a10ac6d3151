"""The one place where a case changes state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain.roles import Perm
from grants.domain.workflow import BY_ACTION, State, check_transition, reason_for_applicant
from grants.models import Application, AuditEvent
from grants.services import audit, jobs
from grants.services.actor import Actor
from grants.services.errors import Conflict, Forbidden, NotFound

# Which flows an action starts once its transaction has committed. Flows register their names in
# grants.flows.registry; an action not listed here starts nothing.
FOLLOW_UP: dict[str, tuple[str, ...]] = {
    "submit": ("screening", "send_receipt"),   # screening first: the applicant waits for it
    "resubmit": ("screening",),
}


def get_case(db: Session, actor: Actor, case_id: int, *, for_update: bool = False) -> Application:
    """Load a case the actor may see; an applicant never learns that another organisation's
    case exists (404, not 403)."""
    stmt = select(Application).where(Application.id == case_id)
    if for_update and db.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return visible(actor, db.scalar(stmt))


def visible(actor: Actor, case: Application | None) -> Application:
    """The case, if the actor may see it; otherwise the same 404 for a case that does not exist."""
    if case is None or not may_see(actor, case):
        raise NotFound("Diesen Antrag gibt es nicht, oder Sie dürfen ihn nicht sehen.")
    return case


def may_see(actor: Actor, case: Application) -> bool:
    if actor.is_system or actor.can(Perm.VIEW_ALL_CASES):
        return True
    if actor.can(Perm.VIEW_OWN_ORG):
        return actor.member_of(case.organisation_id)
    # committee and finance see cases through their own pages (agenda items, payouts)
    return actor.can(Perm.COMMITTEE_VIEW) or actor.can(Perm.FINANCE_VIEW)


def transition(db: Session, case: Application, action: str, actor: Actor, *, reason: str = "",
               data: dict | None = None) -> AuditEvent:
    """Take `action` on `case` as `actor`: check, change state, audit, ask for the follow-up flow.

    Runs inside the caller's unit of work; nothing is written if anything fails.
    """
    if actor.is_applicant and not actor.member_of(case.organisation_id):
        raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
    verdict = check_transition(action, case.state, actor.role, reason)
    if not verdict:
        t = BY_ACTION.get(action)
        if t is not None and State(case.state) in t.sources and t.needs_reason and not reason.strip():
            raise Conflict("Bitte geben Sie eine Begründung an.")
        if t is not None and State(case.state) in t.sources:
            raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
        raise Conflict("Dieser Schritt ist im aktuellen Stand des Antrags nicht möglich.")
    target = BY_ACTION[action].target
    old = case.state
    case.state = target.value
    case.state_changed_at = clock.now()
    event = audit.record(db, actor, action, obj=case, application_id=case.id, from_state=old,
                         to_state=target.value, reason=reason.strip(), data=data)
    flows = FOLLOW_UP.get(action, ())
    if flows:
        db.flush()
    for flow in flows:
        jobs.enqueue(db, flow, f"{flow}:{case.id}:{event.id}", case_id=case.id)
    db.flush()  # optimistic lock: a concurrent change raises StaleDataError here
    return event


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    to_state: str
    reason: str


def applicant_history(db: Session, case_id: int) -> list[HistoryLine]:
    """The case's steps as the applicant sees them: a reason only where it was written for them
    (workflow.Transition.reason_for_applicant); the city's internal notes never."""
    return [HistoryLine(e.at, e.to_state or "", e.reason if reason_for_applicant(e.action) else "")
            for e in history(db, case_id)]


def history(db: Session, case_id: int) -> list[AuditEvent]:
    return list(db.scalars(
        select(AuditEvent)
        .where(AuditEvent.application_id == case_id, AuditEvent.to_state.is_not(None))
        .order_by(AuditEvent.at, AuditEvent.id)
    ))
