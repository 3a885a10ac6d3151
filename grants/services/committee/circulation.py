"""The written procedure (Umlaufverfahren): urgent cases put to the members in writing, decided when
all have voted, one member objects, or the deadline passes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain import committee as rules
from grants.domain.workflow import State
from grants.models import (
    AgendaItem,
    Application,
    Sitting,
    Vote,
)
from grants.services import audit, cases, jobs
from grants.services.actor import Actor
from grants.services.committee import members, sessions, voting
from grants.services.errors import Conflict, Forbidden, Invalid, NotFound


def start_circulation(db: Session, actor: Actor, committee_id: int, case_ids: list[int], deadline: datetime,
                      base_url: str = "") -> Sitting:
    """Urgent cases decided in writing: each item is put to the members as an approval of the
    proposed amount; they vote online until the deadline."""

    sessions.require_chair(actor)
    if deadline <= clock.now():
        raise Invalid("Die Frist muss in der Zukunft liegen.")
    if not case_ids:
        raise Invalid("Bitte wählen Sie mindestens einen Antrag.")
    m = sessions.plan_session(db, actor, committee_id, deadline, kind="circulation", deadline_at=deadline,
                     place="Umlaufverfahren")
    for position, case_id in enumerate(case_ids, 1):
        case = db.get(Application, case_id)
        if case is None or case.state != State.READY_FOR_COMMITTEE.value:
            raise Conflict("Nur Anträge, die bereit für den Koordinierungsstab sind, können im Umlauf entschieden werden.")
        db.add(AgendaItem(session_id=m.id, application_id=case.id, position=position, proposed_amount=case.requested,
                          motion="approve", motion_amount=case.requested))
        cases.transition(db, case, "put_on_agenda", actor, data={"circulation": m.number})
    db.flush()
    sessions.invite(db, m.id, base_url)
    m.state, m.opened_at = "open", clock.now()
    audit.record(db, actor, "circulation_started", obj=m, data={"cases": case_ids, "deadline": deadline.isoformat()})
    return m


def cast_written_vote(db: Session, actor: Actor, item_id: int, choice: str) -> Vote:
    """A member's own written vote: yes, no, abstain, or an objection to the procedure."""
    item = db.get(AgendaItem, item_id)
    if item is None:
        raise NotFound("Diesen Tagesordnungspunkt gibt es nicht.")
    m = sessions.get_sitting(db, item.session_id)
    me = members.member_of(db, actor, m.committee_id)
    if m.kind != "circulation" or m.state != "open" or item.outcome is not None:
        raise Conflict("Über diesen Punkt wird nicht (mehr) schriftlich abgestimmt.")
    if me is None:
        raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
    if me.id in voting.conflicted(db, item.id):
        raise Forbidden("Sie sind wegen Befangenheit von diesem Tagesordnungspunkt ausgeschlossen (§§ 20, 21 VwVfG).")
    if choice not in (rules.YES, rules.NO, rules.ABSTAIN, rules.OBJECT):
        raise Invalid("Bitte stimmen Sie mit Ja, Nein, Enthaltung oder widersprechen Sie dem Umlaufverfahren.")
    if not me.voting and choice != rules.OBJECT:
        raise Forbidden("Beratende Mitglieder haben kein Stimmrecht; Sie können dem Umlaufverfahren widersprechen.")
    vote = db.scalar(select(Vote).where(Vote.agenda_item_id == item_id, Vote.member_id == me.id))
    if vote is None:
        vote = Vote(agenda_item_id=item_id, member_id=me.id, choice=choice, entered_by_id=actor.user_id)
        db.add(vote)
    else:
        vote.choice, vote.cast_at = choice, clock.now()
    db.flush()
    audit.record(db, actor, "written_vote", obj=item, application_id=item.application_id, data={"choice": choice})
    return vote


def evaluate_circulations(db: Session, now: datetime) -> list[int]:
    """Close written procedures that are decided: all voted, an objection, or the deadline passed.
    An item ended by objection (or silence) goes back to the next session."""
    closed = []
    system = Actor.system("circulation")
    for m in db.scalars(select(Sitting).where(Sitting.kind == "circulation", Sitting.state == "open")):
        if m.deadline_at is None:           # plan_session gives every circulation one
            raise Conflict("Ein Umlaufverfahren braucht eine Frist.")
        roster = members.rule_members(members.active_members(db, m.committee_id))
        pending = False
        for item in db.scalars(select(AgendaItem).where(AgendaItem.session_id == m.id, AgendaItem.outcome.is_(None))):
            votes = dict(db.execute(select(Vote.member_id, Vote.choice).where(Vote.agenda_item_id == item.id))
                         .tuples().all())
            r = rules.circulation(roster, votes, voting.conflicted(db, item.id), deadline=m.deadline_at, now=now)
            if r.state == "open":
                pending = True
            elif r.state == "carried" and item.motion_amount and item.motion_amount > voting.money_left(db, item):
                item.outcome = "defer"
                item.motion_reasons = ("Im Umlaufverfahren angenommen, aber der Fonds reicht nach den anderen "
                                       "Bewilligungen nicht; der Antrag kommt in die nächste Sitzung.")
            elif r.state == "carried":
                item.outcome = item.motion
            else:
                item.outcome = "defer"
                item.motion_reasons = ("Umlaufverfahren beendet: Widerspruch oder keine Stimme bis zur Frist; "
                                       "der Antrag kommt in die nächste Sitzung." if r.state == "ended_by_objection"
                                       else "Im Umlaufverfahren nicht angenommen; der Antrag kommt in die nächste Sitzung.")
            audit.record(db, system, "circulation_evaluated", obj=item, application_id=item.application_id,
                         data={"state": r.state, "yes": r.yes, "no": r.no, "abstain": r.abstain})
        if not pending:
            m.state, m.closed_at = "closed", clock.now()
            audit.record(db, system, "session_closed", obj=m)
            jobs.enqueue(db, sessions.DECIDE_FLOW, f"{sessions.DECIDE_FLOW}:{m.id}", session_id=m.id)
            closed.append(m.id)
    return closed
