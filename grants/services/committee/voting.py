"""Motions and votes on an agenda item: conflicts of interest (§§ 20, 21 VwVfG) exclude a member,
the chair puts a motion, members vote, the chair counts (grants.domain.committee decides). An
approval never binds more money than the fund holds, counting approvals not yet booked."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain import committee as rules
from grants.domain.roles import Perm
from grants.models import (
    AgendaItem,
    Application,
    Committee,
    CommitteeMember,
    ConflictOfInterest,
    Decision,
    Program,
    Sitting,
    Vote,
)
from grants.services import audit, ledger
from grants.services.actor import Actor
from grants.services.committee import members, sessions
from grants.services.errors import Conflict, Forbidden, Invalid, NotFound
from grants.services.rows import get_or_404

MOTIONS = ("approve", "approve_partly", "reject", "defer")


def item_for(db: Session, actor: Actor, item_id: int, member_id: int) -> tuple[AgendaItem, Sitting]:
    """The item and its session, if the actor may act for `member_id`: themselves, or anyone as chair."""
    item = db.get(AgendaItem, item_id)
    if item is None:
        raise NotFound("Diesen Tagesordnungspunkt gibt es nicht.")
    m = sessions.get_sitting(db, item.session_id)
    me = members.member_of(db, actor, m.committee_id)
    if me is None or (me.id != member_id and not actor.can(Perm.CHAIR_SESSION)):
        raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
    return item, m


def declare_conflict(db: Session, actor: Actor, item_id: int, member_id: int, reason: str) -> ConflictOfInterest:
    """A member declares a conflict (§§ 20, 21 VwVfG) for themselves; the chair may record it for anyone."""
    item, m = item_for(db, actor, item_id, member_id)
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


def set_motion(db: Session, actor: Actor, item_id: int, motion: str, *, amount: Decimal | None = None,
               reasons: str = "") -> AgendaItem:
    sessions.require_chair(actor)
    item = db.get(AgendaItem, item_id)
    if item is None:
        raise NotFound("Diesen Tagesordnungspunkt gibt es nicht.")
    if sessions.get_sitting(db, item.session_id).state != "open":
        raise Conflict("Abgestimmt wird nur in einer eröffneten Sitzung.")
    if item.outcome is not None:
        raise Conflict("Über diesen Punkt ist schon entschieden.")
    if motion not in MOTIONS:
        raise Invalid("Unbekannter Beschlussvorschlag.")
    requested = item.application.requested
    if motion == "approve_partly" and (amount is None or not (Decimal("0") < amount < requested)):
        raise Invalid("Bei einer teilweisen Bewilligung muss der Betrag kleiner als der beantragte sein.")
    if motion in ("approve_partly", "reject", "defer") and not reasons.strip():
        raise Invalid("Bitte geben Sie die Gründe an.")
    motion_amount = amount if motion == "approve_partly" else (requested if motion == "approve" else None)
    if motion_amount is not None:       # an approval: amount checked above, or the amount requested
        require_money(db, item, motion_amount)
    item.motion, item.motion_reasons = motion, reasons.strip()
    item.motion_amount = motion_amount
    for v in db.scalars(select(Vote).where(Vote.agenda_item_id == item.id)):
        db.delete(v)          # a new motion is a new vote
    audit.record(db, actor, "motion", obj=item, application_id=item.application_id,
                 data={"motion": motion, "amount": str(item.motion_amount) if item.motion_amount else None})
    return item


def approved_not_committed(db: Session, fund_id: int, except_item: int | None = None) -> Decimal:
    """What items decided as approved hold of this fund before the decision flow binds it: the
    ledger's `available` does not know them yet."""
    q = (select(func.coalesce(func.sum(AgendaItem.motion_amount), 0))
         .join(Application, Application.id == AgendaItem.application_id)
         .join(Program, Program.id == Application.program_id)
         .where(Program.fund_id == fund_id, AgendaItem.outcome.in_(("approve", "approve_partly")),
                Application.state != "withdrawn",
                ~select(Decision.id).where(Decision.agenda_item_id == AgendaItem.id).exists()))
    if except_item is not None:
        q = q.where(AgendaItem.id != except_item)
    return Decimal(db.scalar(q) or 0)


def money_left(db: Session, item: AgendaItem) -> Decimal:
    """Available for this item: the fund's balance less what other items were approved with."""
    fund = ledger.fund_for_program(db, item.application.program_id)
    return ledger.balances(db, fund.id).available - approved_not_committed(db, fund.id, item.id)


def require_money(db: Session, item: AgendaItem, need: Decimal) -> None:
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
    item, m = item_for(db, actor, item_id, member_id)
    if m.state != "open" or item.motion is None or item.outcome is not None:
        raise Conflict("Zu diesem Punkt wird gerade nicht abgestimmt.")
    member = get_or_404(db, CommitteeMember, member_id, "Dieses Mitglied gibt es nicht.")
    refusal = rules.vote_refusal(rules.Member(member.id, member.voting), sessions.present_ids(db, m.id),
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
    item = get_or_404(db, AgendaItem, item_id, "Diesen Tagesordnungspunkt gibt es nicht.")
    m = sessions.get_sitting(db, item.session_id)
    c = db.get_one(Committee, m.committee_id)
    votes = dict(db.execute(select(Vote.member_id, Vote.choice).where(Vote.agenda_item_id == item_id)).tuples().all())
    roster = members.rule_members(members.active_members(db, m.committee_id))
    return rules.tally(roster, votes, sessions.present_ids(db, m.id), conflicted(db, item_id),
                       chair_decides_tie=c.chair_decides_tie)


def conclude_item(db: Session, actor: Actor, item_id: int) -> AgendaItem:
    """Count the votes on the motion; a carried motion is the item's outcome. A failed motion
    leaves the item open for another motion."""
    sessions.require_chair(actor)
    ledger.serialise(db)          # two items counted at once must not both take the last euros
    item = db.get(AgendaItem, item_id)
    if item is None or item.motion is None:
        raise Conflict("Es gibt keinen Beschlussvorschlag.")
    if item.outcome is not None:                          # counted already (a double click)
        raise Conflict("Über diesen Punkt ist schon entschieden.")
    q = sessions.quorum_of(db, item.session_id)
    if not q.reached:
        raise Conflict("Der Koordinierungsstab ist nicht beschlussfähig: %(present)d von %(needed)d nötigen "
                       "stimmberechtigten Mitgliedern anwesend.", present=q.present_voting, needed=q.needed)
    t = count(db, item_id)
    if t.carried and item.motion in ("approve", "approve_partly"):
        if item.motion_amount is None:                   # set_motion gives every approval its amount
            raise Conflict("Es gibt keinen Beschlussvorschlag.")
        require_money(db, item, item.motion_amount)      # another item may have been approved since the motion
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
