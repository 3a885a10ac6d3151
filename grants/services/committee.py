"""The Koordinierungsstab's work: sessions, agenda, attendance, conflicts of interest, motions,
votes, and closing a session into decisions. The rules are in grants.domain.committee."""

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
    ConflictOfInterest,
    Decision,
    User,
    Vote,
)
from grants.models import Sitting
from grants.services import audit, cases, ledger, messenger
from grants.services.actor import Actor
from grants.services.errors import Conflict, Forbidden, Invalid, NotFound

MOTIONS = ("approve", "approve_partly", "reject", "defer")
DECIDE_FLOW = "decide_session"


def member_of(db: Session, actor: Actor, committee_id: int) -> CommitteeMember | None:
    if actor.user_id is None:
        return None
    return db.scalar(select(CommitteeMember).where(CommitteeMember.committee_id == committee_id,
                                                   CommitteeMember.user_id == actor.user_id,
                                                   CommitteeMember.active.is_(True)))


def _members(db: Session, committee_id: int) -> list[CommitteeMember]:
    return list(db.scalars(select(CommitteeMember).where(CommitteeMember.committee_id == committee_id,
                                                         CommitteeMember.active.is_(True)).order_by(CommitteeMember.id)))


def _rule_members(members: list[CommitteeMember]) -> list[rules.Member]:
    return [rules.Member(m.id, m.voting, m.function == "chair") for m in members]


def _meeting(db: Session, session_id: int) -> Sitting:
    m = db.get(Sitting, session_id)
    if m is None:
        raise NotFound("Diese Sitzung gibt es nicht.")
    return m


def _require_chair(actor: Actor) -> None:
    if not actor.is_system:
        actor.require(Perm.CHAIR_SESSION)


def plan_session(db: Session, actor: Actor, committee_id: int, starts_at: datetime, *, place: str = "",
                 kind: str = "meeting", deadline_at: datetime | None = None) -> Sitting:
    """A session on the schedule or ad hoc; a written procedure (circulation) needs a deadline."""
    _require_chair(actor)
    committee = db.get(Committee, committee_id)
    if kind == "circulation" and deadline_at is None:
        raise Invalid("Ein Umlaufverfahren braucht eine Frist.")
    number = (db.scalar(select(func.max(Sitting.number)).where(Sitting.committee_id == committee_id)) or 0) + 1
    m = Sitting(committee_id=committee_id, number=number, kind=kind, state="planned", starts_at=starts_at,
                cutoff_at=starts_at - timedelta(days=committee.cutoff_days), deadline_at=deadline_at,
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
    committee = db.get(Committee, committee_id)
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
    m = _meeting(db, session_id)
    if m.state not in ("planned", "invited"):
        raise Conflict("Die Tagesordnung dieser Sitzung ist geschlossen.")
    from grants.models import Program

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
    m = _meeting(db, session_id)
    members = db.execute(select(CommitteeMember, User).join(User, User.id == CommitteeMember.user_id)
                         .where(CommitteeMember.committee_id == m.committee_id, CommitteeMember.active.is_(True))).all()
    items = db.scalar(select(func.count()).select_from(AgendaItem).where(AgendaItem.session_id == m.id))
    fund = ledger.default_fund(db)
    available = ledger.balances(db, fund.id).available if fund else Decimal("0")
    for member, user in members:
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
        audit.record(db, Actor.system("agenda"), "session_invited", obj=m, data={"members": len(members)})
    return len(members)


def _item_for(db: Session, actor: Actor, item_id: int, member_id: int) -> tuple[AgendaItem, Sitting]:
    """The item and its session, if the actor may act for `member_id`: themselves, or anyone as chair."""
    item = db.get(AgendaItem, item_id)
    if item is None:
        raise NotFound("Diesen Tagesordnungspunkt gibt es nicht.")
    m = _meeting(db, item.session_id)
    me = member_of(db, actor, m.committee_id)
    if me is None or (me.id != member_id and not actor.can(Perm.CHAIR_SESSION)):
        raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
    return item, m


def declare_conflict(db: Session, actor: Actor, item_id: int, member_id: int, reason: str) -> ConflictOfInterest:
    """A member declares a conflict (§§ 20, 21 VwVfG) for themselves; the chair may record it for anyone."""
    item, m = _item_for(db, actor, item_id, member_id)
    if not reason.strip():
        raise Invalid("Bitte nennen Sie den Grund der Befangenheit.")
    if m.state == "closed":
        raise Conflict("Die Sitzung ist geschlossen.")
    existing = db.scalar(select(ConflictOfInterest).where(ConflictOfInterest.agenda_item_id == item_id,
                                                          ConflictOfInterest.member_id == member_id))
    if existing is not None:
        return existing
    c = ConflictOfInterest(agenda_item_id=item_id, member_id=member_id, reason=reason.strip()[:1000],
                           recorded_by_id=actor.user_id)
    db.add(c)
    # a vote cast before the declaration no longer counts
    old = db.scalar(select(Vote).where(Vote.agenda_item_id == item_id, Vote.member_id == member_id))
    if old is not None:
        db.delete(old)
    db.flush()
    audit.record(db, actor, "conflict_declared", obj=c, application_id=item.application_id,
                 data={"member": member_id}, reason=reason.strip())
    return c


def set_attendance(db: Session, actor: Actor, session_id: int, member_id: int, present: bool) -> None:
    _require_chair(actor)
    m = _meeting(db, session_id)
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
    m = _meeting(db, session_id)
    c = db.get(Committee, m.committee_id)
    return rules.quorum(_rule_members(_members(db, m.committee_id)), present_ids(db, session_id),
                        minimum=c.quorum_minimum, all_invited=m.invited_at is not None)


def open_session(db: Session, actor: Actor, session_id: int) -> Sitting:
    _require_chair(actor)
    m = _meeting(db, session_id)
    if m.state not in ("planned", "invited"):
        raise Conflict("Diese Sitzung kann nicht eröffnet werden.")
    if m.invited_at is None:
        raise Conflict("Es wurden noch nicht alle Mitglieder eingeladen.")
    m.state, m.opened_at = "open", clock.now()
    audit.record(db, actor, "session_opened", obj=m)
    return m


def set_motion(db: Session, actor: Actor, item_id: int, motion: str, *, amount: Decimal | None = None,
               reasons: str = "") -> AgendaItem:
    _require_chair(actor)
    item = db.get(AgendaItem, item_id)
    if item is None:
        raise NotFound("Diesen Tagesordnungspunkt gibt es nicht.")
    if _meeting(db, item.session_id).state != "open":
        raise Conflict("Abgestimmt wird nur in einer eröffneten Sitzung.")
    if item.outcome is not None:
        raise Conflict("Über diesen Punkt ist schon entschieden.")
    if motion not in MOTIONS:
        raise Invalid("Unbekannter Beschlussvorschlag.")
    requested = item.application.requested
    if motion == "approve_partly":
        if amount is None or not (Decimal("0") < amount < requested):
            raise Invalid("Bei einer teilweisen Bewilligung muss der Betrag kleiner als der beantragte sein.")
    if motion in ("approve_partly", "reject", "defer") and not reasons.strip():
        raise Invalid("Bitte geben Sie die Gründe an.")
    if motion in ("approve", "approve_partly"):
        _require_money(db, item, amount if motion == "approve_partly" else requested)
    item.motion, item.motion_reasons = motion, reasons.strip()
    item.motion_amount = amount if motion == "approve_partly" else (requested if motion == "approve" else None)
    for v in db.scalars(select(Vote).where(Vote.agenda_item_id == item.id)):
        db.delete(v)          # a new motion is a new vote
    audit.record(db, actor, "motion", obj=item, application_id=item.application_id,
                 data={"motion": motion, "amount": str(item.motion_amount) if item.motion_amount else None})
    return item


def approved_not_committed(db: Session, fund_id: int, except_item: int | None = None) -> Decimal:
    """What items decided as approved hold of this fund before the decision flow binds it: the
    ledger's `available` does not know them yet."""
    from grants.models import Program

    q = (select(func.coalesce(func.sum(AgendaItem.motion_amount), 0))
         .join(Application, Application.id == AgendaItem.application_id)
         .join(Program, Program.id == Application.program_id)
         .where(Program.fund_id == fund_id, AgendaItem.outcome.in_(("approve", "approve_partly")),
                ~select(Decision.id).where(Decision.agenda_item_id == AgendaItem.id).exists()))
    if except_item is not None:
        q = q.where(AgendaItem.id != except_item)
    return Decimal(db.scalar(q) or 0)


def money_left(db: Session, item: AgendaItem) -> Decimal:
    """Available for this item: the fund's balance less what other items were approved with."""
    fund = ledger.fund_for_program(db, item.application.program_id)
    return ledger.balances(db, fund.id).available - approved_not_committed(db, fund.id, item.id)


def _require_money(db: Session, item: AgendaItem, need: Decimal) -> None:
    """Never approve more than the fund holds, counting approvals of this session (or of a written
    procedure) that the decision flow has not bound yet."""
    left = money_left(db, item)
    if need > left:
        raise Conflict("Nicht genug Geld im Fonds: verfügbar sind %(available)s €, die Bewilligung braucht "
                       "%(amount)s €.", available=f"{left:.2f}", amount=f"{need:.2f}")


def conflicted(db: Session, item_id: int) -> set[int]:
    return set(db.scalars(select(ConflictOfInterest.member_id).where(ConflictOfInterest.agenda_item_id == item_id)))


def cast_vote(db: Session, actor: Actor, item_id: int, member_id: int, choice: str) -> Vote:
    """A member votes on their own device; the chair may enter a member's vote."""
    item, m = _item_for(db, actor, item_id, member_id)
    if m.state != "open" or item.motion is None or item.outcome is not None:
        raise Conflict("Zu diesem Punkt wird gerade nicht abgestimmt.")
    member = db.get(CommitteeMember, member_id)
    refusal = rules.vote_refusal(rules.Member(member.id, member.voting), present_ids(db, m.id),
                                 conflicted(db, item.id), choice)
    if refusal:
        raise Forbidden(refusal)
    vote = db.scalar(select(Vote).where(Vote.agenda_item_id == item_id, Vote.member_id == member_id))
    if vote is None:
        vote = Vote(agenda_item_id=item_id, member_id=member_id, choice=choice, entered_by_id=actor.user_id)
        db.add(vote)
    else:
        vote.choice, vote.entered_by_id, vote.cast_at = choice, actor.user_id, clock.now()
    db.flush()
    return vote


def count(db: Session, item_id: int) -> rules.Tally:
    item = db.get(AgendaItem, item_id)
    m = _meeting(db, item.session_id)
    c = db.get(Committee, m.committee_id)
    votes = dict(db.execute(select(Vote.member_id, Vote.choice).where(Vote.agenda_item_id == item_id)).all())
    return rules.tally(_rule_members(_members(db, m.committee_id)), votes, present_ids(db, m.id), conflicted(db, item_id),
                       chair_decides_tie=c.chair_decides_tie)


def conclude_item(db: Session, actor: Actor, item_id: int) -> AgendaItem:
    """Count the votes on the motion; a carried motion is the item's outcome. A failed motion
    leaves the item open for another motion."""
    _require_chair(actor)
    item = db.get(AgendaItem, item_id)
    if item is None or item.motion is None:
        raise Conflict("Es gibt keinen Beschlussvorschlag.")
    q = quorum_of(db, item.session_id)
    if not q.reached:
        raise Conflict("Der Koordinierungsstab ist nicht beschlussfähig: %(present)d von %(needed)d nötigen "
                       "stimmberechtigten Mitgliedern anwesend.", present=q.present_voting, needed=q.needed)
    t = count(db, item_id)
    if t.carried and item.motion in ("approve", "approve_partly"):
        _require_money(db, item, item.motion_amount)      # another item may have been approved since the motion
    audit.record(db, actor, "vote_counted", obj=item, application_id=item.application_id,
                 data={"motion": item.motion, "yes": t.yes, "no": t.no, "abstain": t.abstain,
                       "excluded": list(t.excluded), "carried": t.carried})
    if t.carried:
        item.outcome = item.motion
    else:
        # not carried: a new motion is needed; this count stays in the audit trail for the minutes
        item.motion = None
        for v in db.scalars(select(Vote).where(Vote.agenda_item_id == item.id)):
            db.delete(v)
    return item


def close_session(db: Session, actor: Actor, session_id: int) -> Sitting:
    """Close the session: items still open are deferred; the decision flow records the decisions."""
    from grants.services import jobs

    _require_chair(actor)
    m = _meeting(db, session_id)
    if m.state != "open":
        raise Conflict("Nur eine eröffnete Sitzung kann geschlossen werden.")
    for item in db.scalars(select(AgendaItem).where(AgendaItem.session_id == m.id, AgendaItem.outcome.is_(None))):
        item.outcome, item.motion_reasons = "defer", item.motion_reasons or "In der Sitzung nicht abschließend beraten."
    m.state, m.closed_at = "closed", clock.now()
    audit.record(db, actor, "session_closed", obj=m)
    jobs.enqueue(db, DECIDE_FLOW, f"{DECIDE_FLOW}:{m.id}", session_id=m.id)
    return m


def record_decisions(db: Session, session_id: int) -> dict:
    """The decision flow's work: one decision per item, funds committed, cases moved, applicants
    told. Safe to re-run: an item with a decision is skipped."""
    m = _meeting(db, session_id)
    if m.state != "closed":
        return {"session": session_id, "skipped": "not closed"}
    system = Actor.system("decisions")
    done = 0
    for item in db.scalars(select(AgendaItem).where(AgendaItem.session_id == m.id).order_by(AgendaItem.position)):
        if db.scalar(select(Decision.id).where(Decision.agenda_item_id == item.id)) is not None:
            continue
        case = item.application
        votes = db.execute(select(Vote.choice, func.count()).where(Vote.agenda_item_id == item.id)
                           .group_by(Vote.choice)).all()
        counts = dict(votes)
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
            from grants.models import Program
            from grants.services.letters import report_due

            case.report_due_on = report_due(case, db.get(Program, case.program_id))
        db.add(Decision(application_id=case.id, agenda_item_id=item.id, kind=outcome, amount=amount,
                        reasons=item.motion_reasons, votes_yes=counts.get("yes", 0), votes_no=counts.get("no", 0),
                        votes_abstain=counts.get("abstain", 0)))
        if case.state == State.ON_AGENDA.value:
            cases.transition(db, case, outcome, system, reason=item.motion_reasons or "",
                             data={"session": m.number, "amount": str(amount) if amount else None})
        _tell_applicant(db, case, outcome, m)
        done += 1
    decided = [i.application_id for i in db.scalars(select(AgendaItem).where(AgendaItem.session_id == m.id))
               if i.outcome in ("approve", "approve_partly", "reject")]
    if decided:
        from grants.services import jobs

        jobs.enqueue(db, "decision_letters", f"decision_letters:{m.id}", case_ids=decided)
    return {"session": session_id, "decisions": done}


def _tell_applicant(db: Session, case, outcome: str, m: Sitting) -> None:

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


# ---- written procedure (Umlaufverfahren) ---------------------------------------------------

def start_circulation(db: Session, actor: Actor, committee_id: int, case_ids: list[int], deadline: datetime,
                      base_url: str = "") -> Sitting:
    """Urgent cases decided in writing: each item is put to the members as an approval of the
    proposed amount; they vote online until the deadline."""

    _require_chair(actor)
    if deadline <= clock.now():
        raise Invalid("Die Frist muss in der Zukunft liegen.")
    if not case_ids:
        raise Invalid("Bitte wählen Sie mindestens einen Antrag.")
    m = plan_session(db, actor, committee_id, deadline, kind="circulation", deadline_at=deadline,
                     place="Umlaufverfahren")
    for position, case_id in enumerate(case_ids, 1):
        case = db.get(Application, case_id)
        if case is None or case.state != State.READY_FOR_COMMITTEE.value:
            raise Conflict("Nur Anträge, die bereit für den Koordinierungsstab sind, können im Umlauf entschieden werden.")
        db.add(AgendaItem(session_id=m.id, application_id=case.id, position=position, proposed_amount=case.requested,
                          motion="approve", motion_amount=case.requested))
        cases.transition(db, case, "put_on_agenda", actor, data={"circulation": m.number})
    db.flush()
    invite(db, m.id, base_url)
    m.state, m.opened_at = "open", clock.now()
    audit.record(db, actor, "circulation_started", obj=m, data={"cases": case_ids, "deadline": deadline.isoformat()})
    return m


def cast_written_vote(db: Session, actor: Actor, item_id: int, choice: str) -> Vote:
    """A member's own written vote: yes, no, abstain, or an objection to the procedure."""
    item = db.get(AgendaItem, item_id)
    if item is None:
        raise NotFound("Diesen Tagesordnungspunkt gibt es nicht.")
    m = _meeting(db, item.session_id)
    me = member_of(db, actor, m.committee_id)
    if m.kind != "circulation" or m.state != "open" or item.outcome is not None:
        raise Conflict("Über diesen Punkt wird nicht (mehr) schriftlich abgestimmt.")
    if me is None:
        raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
    if me.id in conflicted(db, item.id):
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
    from grants.services import jobs

    closed = []
    system = Actor.system("circulation")
    for m in db.scalars(select(Sitting).where(Sitting.kind == "circulation", Sitting.state == "open")):
        members = _rule_members(_members(db, m.committee_id))
        pending = False
        for item in db.scalars(select(AgendaItem).where(AgendaItem.session_id == m.id, AgendaItem.outcome.is_(None))):
            votes = dict(db.execute(select(Vote.member_id, Vote.choice).where(Vote.agenda_item_id == item.id)).all())
            r = rules.circulation(members, votes, conflicted(db, item.id), deadline=m.deadline_at, now=now)
            if r.state == "open":
                pending = True
            elif r.state == "carried" and item.motion_amount and item.motion_amount > money_left(db, item):
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
            jobs.enqueue(db, DECIDE_FLOW, f"{DECIDE_FLOW}:{m.id}", session_id=m.id)
            closed.append(m.id)
    return closed


FUNCTIONS = ("chair", "deputy", "minute_taker", "member")


def set_member(db: Session, actor: Actor, committee_id: int, user_id: int, *, function: str, voting: bool,
               active: bool = True, department: str = "") -> CommitteeMember:
    """Add a member or change one (admins). Only committee and chair accounts can be members;
    staff may sit in as advisory members."""
    actor.require(Perm.ADMIN_USERS)
    if function not in FUNCTIONS:
        raise Invalid("Unbekannte Funktion.")
    user = db.get(User, user_id)
    if user is None or user.role not in ("committee", "chair", "staff"):
        raise Invalid("Mitglied kann nur ein Konto des Koordinierungsstabs (oder beratend des Fachdienstes) sein.")
    if user.role == "staff" and voting:
        raise Invalid("Mitarbeitende des Fachdienstes sind beratende Mitglieder ohne Stimmrecht.")
    if function == "chair" and user.role != "chair":
        raise Invalid("Den Vorsitz hat ein Konto mit der Rolle Vorsitz.")
    m = db.scalar(select(CommitteeMember).where(CommitteeMember.committee_id == committee_id,
                                                CommitteeMember.user_id == user_id))
    if m is None:
        m = CommitteeMember(committee_id=committee_id, user_id=user_id)
        db.add(m)
    m.function, m.voting, m.active, m.department = function, voting, active, department.strip()[:200]
    db.flush()
    audit.record(db, actor, "committee_member_set", obj=m,
                 data={"user": user.email, "function": function, "voting": voting, "active": active})
    return m


def set_rules(db: Session, actor: Actor, committee_id: int, *, quorum_minimum: int, chair_decides_tie: bool,
              interval_days: int, cutoff_days: int) -> Committee:
    actor.require(Perm.ADMIN_SYSTEM)
    if not (1 <= quorum_minimum <= 50) or not (1 <= interval_days <= 90) or not (0 <= cutoff_days <= 30):
        raise Invalid("Bitte prüfen Sie die Werte.")
    c = db.get(Committee, committee_id)
    c.quorum_minimum, c.chair_decides_tie, c.interval_days, c.cutoff_days = (quorum_minimum, chair_decides_tie,
                                                                             interval_days, cutoff_days)
    audit.record(db, actor, "committee_rules", obj=c, data={"quorum_minimum": quorum_minimum,
                                                           "chair_decides_tie": chair_decides_tie,
                                                           "interval_days": interval_days, "cutoff_days": cutoff_days})
    return c
