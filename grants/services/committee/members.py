"""Who sits on the Koordinierungsstab: members with their function and vote, and the committee's
rules (quorum, tie, rhythm); admins change both."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.domain import committee as rules
from grants.domain.roles import Perm
from grants.models import (
    Committee,
    CommitteeMember,
    User,
)
from grants.services import audit
from grants.services.actor import Actor
from grants.services.errors import Invalid
from grants.services.rows import get_or_404

FUNCTIONS = ("chair", "deputy", "minute_taker", "member")


def get_committee(db: Session, committee_id: int) -> Committee:
    return get_or_404(db, Committee, committee_id, "Diesen Koordinierungsstab gibt es nicht.")


def member_of(db: Session, actor: Actor, committee_id: int) -> CommitteeMember | None:
    if actor.user_id is None:
        return None
    return db.scalar(select(CommitteeMember).where(CommitteeMember.committee_id == committee_id,
                                                   CommitteeMember.user_id == actor.user_id,
                                                   CommitteeMember.active.is_(True)))


def active_members(db: Session, committee_id: int) -> list[CommitteeMember]:
    return list(db.scalars(select(CommitteeMember).where(CommitteeMember.committee_id == committee_id,
                                                         CommitteeMember.active.is_(True)).order_by(CommitteeMember.id)))


def rule_members(members: list[CommitteeMember]) -> list[rules.Member]:
    return [rules.Member(m.id, m.voting, m.function == "chair") for m in members]


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
    c = get_committee(db, committee_id)
    c.quorum_minimum, c.chair_decides_tie, c.interval_days, c.cutoff_days = (quorum_minimum, chair_decides_tie,
                                                                             interval_days, cutoff_days)
    audit.record(db, actor, "committee_rules", obj=c, data={"quorum_minimum": quorum_minimum,
                                                           "chair_decides_tie": chair_decides_tie,
                                                           "interval_days": interval_days, "cutoff_days": cutoff_days})
    return c
