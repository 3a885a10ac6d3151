"""Sittings of the Koordinierungsstab: planned by the clock or by the chair, the agenda built at
the cut-off, members invited, attendance and quorum, opened and closed. Closing queues the decision
flow (grants.services.committee.decisions)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain import committee as rules
from grants.domain.roles import Perm
from grants.domain.workflow import State
from grants.models import (
    AgendaItem,
    Application,
    Attendance,
    Committee,
    CommitteeMember,
    Program,
    Sitting,
    User,
)
from grants.services import audit, cases, jobs, ledger, messenger
from grants.services.actor import Actor
from grants.services.committee import members
from grants.services.errors import Conflict, Invalid, NotFound

DECIDE_FLOW = "decide_session"


def get_sitting(db: Session, session_id: int) -> Sitting:
    m = db.get(Sitting, session_id)
    if m is None:
        raise NotFound("Diese Sitzung gibt es nicht.")
    return m


def require_chair(actor: Actor) -> None:
    if not actor.is_system:
        actor.require(Perm.CHAIR_SESSION)


def _cutoff(starts_at: datetime, days: int) -> datetime:
    """`days` calendar days before the sitting, at the same time of day in Berlin (across a change
    to or from summer time that is 23 or 25 hours a day, not 24)."""
    local = clock.local(starts_at)
    return clock.at(local.date() - timedelta(days=days), local.time())


def plan_session(db: Session, actor: Actor, committee_id: int, starts_at: datetime, *, place: str = "",
                 kind: str = "meeting", deadline_at: datetime | None = None) -> Sitting:
    """A session on the schedule or ad hoc; a written procedure (circulation) needs a deadline."""
    require_chair(actor)
    committee = members.get_committee(db, committee_id)
    if kind == "circulation" and deadline_at is None:
        raise Invalid("Ein Umlaufverfahren braucht eine Frist.")
    number = (db.scalar(select(func.max(Sitting.number)).where(Sitting.committee_id == committee_id)) or 0) + 1
    m = Sitting(committee_id=committee_id, number=number, kind=kind, state="planned", starts_at=starts_at,
                cutoff_at=_cutoff(starts_at, committee.cutoff_days), deadline_at=deadline_at,
                place=place or committee.default_place)
    db.add(m)
    db.flush()
    audit.record(db, actor, "session_planned", obj=m, data={"number": number, "kind": kind})
    return m


def next_session(db: Session, committee_id: int, now: datetime | None = None) -> Sitting | None:
    now = now or clock.now()
    return db.scalar(select(Sitting).where(Sitting.committee_id == committee_id, Sitting.kind == "meeting",
                                           Sitting.state.in_(("planned", "invited")), Sitting.starts_at > now)
                     .order_by(Sitting.starts_at).limit(1))


def ensure_schedule(db: Session, committee_id: int, now: datetime, *, weekday: int = 2, hour: int = 14) -> Sitting:
    """Keep the next regular session planned (default every second week, Wednesdays 14:00 in
    Osnabrück, summer or winter)."""
    today = clock.local_date(now)
    existing = next_session(db, committee_id, now)
    if existing is not None:
        return existing
    committee = members.get_committee(db, committee_id)
    last = db.scalar(select(Sitting.starts_at).where(Sitting.committee_id == committee_id, Sitting.kind == "meeting")
                     .order_by(Sitting.starts_at.desc()).limit(1))
    if last is not None:
        first = clock.local_date(last)
    else:
        first = today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    day = rules.next_sessions(first, committee.interval_days, today + timedelta(days=1), 1)[0]
    return plan_session(db, Actor.system("schedule"), committee_id,
                        clock.at(day, time(hour, 0)))


def build_agenda(db: Session, session_id: int) -> list[AgendaItem]:
    """Every case ready for the committee (and every deferred one) goes on this session's agenda."""
    m = get_sitting(db, session_id)
    if m.state not in ("planned", "invited"):
        raise Conflict("Die Tagesordnung dieser Sitzung ist geschlossen.")
    committee_programs = select(Program.id).where(Program.committee_id == m.committee_id)
    ready = db.scalars(select(Application).where(
        Application.state.in_((State.READY_FOR_COMMITTEE.value, State.DEFERRED.value)),
        Application.program_id.in_(committee_programs)).order_by(Application.submitted_at, Application.id)).all()
    position = db.scalar(select(func.max(AgendaItem.position)).where(AgendaItem.session_id == m.id)) or 0
    added = []
    system = Actor.system("agenda")
    for case in ready:
        position += 1
        rec = (case.answers or {}).get("_recommendation") or {}
        item = AgendaItem(session_id=m.id, application_id=case.id, position=position,
                          proposed_amount=Decimal(rec["amount"]) if rec.get("amount") else case.requested,
                          recommendation=rec.get("text", ""))
        db.add(item)
        cases.transition(db, case, "put_on_agenda", system, data={"session": m.number})
        added.append(item)
    db.flush()
    return added


def invite(db: Session, session_id: int, base_url: str) -> int:
    """Invite every member (mail with a link); sent once per member and session."""
    m = get_sitting(db, session_id)
    invitees = db.execute(select(CommitteeMember, User).join(User, User.id == CommitteeMember.user_id)
                          .where(CommitteeMember.committee_id == m.committee_id, CommitteeMember.active.is_(True))).all()
    items = db.scalar(select(func.count()).select_from(AgendaItem).where(AgendaItem.session_id == m.id))
    fund = ledger.default_fund(db)
    available = ledger.balances(db, fund.id).available if fund else Decimal("0")
    for member, user in invitees:
        messenger.send(db, key=f"invite-session:{m.id}:{member.id}", to=user.email, template="session_invitation",
                       user_id=user.id,
                       subject=f"Einladung: {m.number}. Sitzung des Koordinierungsstabs Integration",
                       body=(f"Guten Tag {user.name},\n\nder Koordinierungsstab Integration tagt am "
                             f"{clock.local(m.starts_at).strftime('%d.%m.%Y um %H:%M Uhr')} ({m.place}).\n"
                             f"Auf der Tagesordnung stehen {items} Anträge. Im Fonds sind derzeit "
                             f"{available:.2f} € verfügbar.\n\nTagesordnung und Unterlagen (auch als PDF zum Drucken):\n"
                             f"{base_url}/koordinierungsstab/sitzung/{m.id}\n\nBitte erklären Sie eine Befangenheit "
                             "vor der Sitzung auf dieser Seite.\n\nStadt Osnabrück – Fachdienst Integration"))
    if m.state == "planned":
        m.state, m.invited_at = "invited", clock.now()
        audit.record(db, Actor.system("agenda"), "session_invited", obj=m, data={"members": len(invitees)})
    return len(invitees)


def set_attendance(db: Session, actor: Actor, session_id: int, member_id: int, present: bool) -> None:
    require_chair(actor)
    m = get_sitting(db, session_id)
    if m.state == "closed":
        raise Conflict("Die Sitzung ist geschlossen.")
    row = db.scalar(select(Attendance).where(Attendance.session_id == session_id, Attendance.member_id == member_id))
    if row is None:
        db.add(Attendance(session_id=session_id, member_id=member_id, present=present))
    else:
        row.present, row.recorded_at = present, clock.now()
    audit.record(db, actor, "attendance", obj=m, data={"member": member_id, "present": present})


def present_ids(db: Session, session_id: int) -> set[int]:
    return set(db.scalars(select(Attendance.member_id).where(Attendance.session_id == session_id,
                                                             Attendance.present.is_(True))))


def quorum_of(db: Session, session_id: int) -> rules.Quorum:
    m = get_sitting(db, session_id)
    c = db.get_one(Committee, m.committee_id)
    return rules.quorum(members.rule_members(members.active_members(db, m.committee_id)), present_ids(db, session_id),
                        minimum=c.quorum_minimum, all_invited=m.invited_at is not None)


def open_session(db: Session, actor: Actor, session_id: int) -> Sitting:
    require_chair(actor)
    m = get_sitting(db, session_id)
    if m.state not in ("planned", "invited"):
        raise Conflict("Diese Sitzung kann nicht eröffnet werden.")
    if m.invited_at is None:
        raise Conflict("Es wurden noch nicht alle Mitglieder eingeladen.")
    m.state, m.opened_at = "open", clock.now()
    audit.record(db, actor, "session_opened", obj=m)
    return m


def close_session(db: Session, actor: Actor, session_id: int) -> Sitting:
    """Close the session: items still open are deferred; the decision flow records the decisions."""
    require_chair(actor)
    m = get_sitting(db, session_id)
    if m.state != "open":
        raise Conflict("Nur eine eröffnete Sitzung kann geschlossen werden.")
    for item in db.scalars(select(AgendaItem).where(AgendaItem.session_id == m.id, AgendaItem.outcome.is_(None))):
        item.outcome, item.motion_reasons = "defer", item.motion_reasons or "In der Sitzung nicht abschließend beraten."
    m.state, m.closed_at = "closed", clock.now()
    audit.record(db, actor, "session_closed", obj=m)
    jobs.enqueue(db, DECIDE_FLOW, f"{DECIDE_FLOW}:{m.id}", session_id=m.id)
    return m
