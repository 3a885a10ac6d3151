"""The Koordinierungsstab's procedure (§§ 88-93 VwVfG defaults, docs/domain.md). Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

YES, NO, ABSTAIN, OBJECT = "yes", "no", "abstain", "object"


@dataclass(frozen=True)
class Member:
    id: int
    voting: bool
    chair: bool = False


@dataclass(frozen=True)
class Quorum:
    present_voting: int
    voting_members: int
    needed: int
    reached: bool

    @property
    def missing(self) -> int:
        return max(self.needed - self.present_voting, 0)


def quorum(members: list[Member], present_ids: set[int], *, minimum: int = 3, all_invited: bool = True) -> Quorum:
    """More than half of the voting members, and at least `minimum`, present; and all invited."""
    voting = [m for m in members if m.voting]
    present = sum(1 for m in voting if m.id in present_ids)
    needed = max(len(voting) // 2 + 1, minimum)
    return Quorum(present, len(voting), needed, all_invited and present >= needed)


@dataclass(frozen=True)
class Tally:
    yes: int
    no: int
    abstain: int
    excluded: tuple[int, ...]         # members who may not vote on this item (conflict of interest)
    carried: bool
    tie: bool
    decided_by_chair: bool = False


def may_vote(member: Member, present_ids: set[int], conflicted_ids: set[int]) -> bool:
    return member.voting and member.id in present_ids and member.id not in conflicted_ids


def tally(members: list[Member], votes: dict[int, str], present_ids: set[int], conflicted_ids: set[int], *,
          chair_decides_tie: bool = False) -> Tally:
    """Simple majority of the votes cast (abstentions are not cast); a tie fails, unless the chair
    decides ties and voted yes. Votes of members who may not vote are not counted."""
    counted = {m.id: votes[m.id] for m in members if m.id in votes and may_vote(m, present_ids, conflicted_ids)}
    yes = sum(1 for v in counted.values() if v == YES)
    no = sum(1 for v in counted.values() if v == NO)
    abstain = sum(1 for v in counted.values() if v == ABSTAIN)
    tie = yes == no
    chair = next((m for m in members if m.chair), None)
    by_chair = bool(tie and chair_decides_tie and yes > 0 and chair and counted.get(chair.id) == YES)
    carried = yes > no or by_chair
    return Tally(yes, no, abstain, tuple(sorted(conflicted_ids & {m.id for m in members})), carried, tie, by_chair)


def vote_refusal(member: Member, present_ids: set[int], conflicted_ids: set[int], choice: str) -> str | None:
    """Why a vote cannot be cast (German, shown to the member), or None."""
    if choice not in (YES, NO, ABSTAIN):
        return "Bitte stimmen Sie mit Ja, Nein oder Enthaltung."
    if not member.voting:
        return "Beratende Mitglieder haben kein Stimmrecht."
    if member.id in conflicted_ids:
        return "Sie sind wegen Befangenheit von diesem Tagesordnungspunkt ausgeschlossen (§§ 20, 21 VwVfG)."
    if member.id not in present_ids:
        return "Nur anwesende Mitglieder können abstimmen."
    return None


@dataclass(frozen=True)
class CirculationResult:
    state: str          # open | carried | failed | ended_by_objection
    yes: int
    no: int
    abstain: int
    waiting_for: tuple[int, ...]


def circulation(members: list[Member], votes: dict[int, str], conflicted_ids: set[int], *, deadline: datetime,
                now: datetime) -> CirculationResult:
    """Written procedure: allowed only while no member objects — one objection ends it and the item
    goes to the next session. Before the deadline it stays open until every voting member voted.
    Any member may object (§ 90 (1) VwVfG: "wenn kein Mitglied widerspricht"), an advisory one too;
    not one excluded from the item (§ 20 VwVfG: no part in its procedure)."""
    voters = [m for m in members if m.voting and m.id not in conflicted_ids]
    objectors = {m.id for m in members if m.id not in conflicted_ids}
    cast = {m.id: votes[m.id] for m in voters if m.id in votes}
    yes = sum(1 for v in cast.values() if v == YES)
    no = sum(1 for v in cast.values() if v == NO)
    abstain = sum(1 for v in cast.values() if v == ABSTAIN)
    waiting = tuple(m.id for m in voters if m.id not in cast)
    if any(v == OBJECT and member_id in objectors for member_id, v in votes.items()):
        return CirculationResult("ended_by_objection", yes, no, abstain, waiting)
    if waiting and now < deadline:
        return CirculationResult("open", yes, no, abstain, waiting)
    if waiting:
        # silence is not consent: a member who did not answer by the deadline ends the procedure
        return CirculationResult("ended_by_objection", yes, no, abstain, waiting)
    return CirculationResult("carried" if yes > no else "failed", yes, no, abstain, ())


def next_sessions(first: date, every_days: int, after: date, count: int = 3) -> list[date]:
    """The next regular session dates on or after `after` (default every second week)."""
    if after <= first:
        start = first
    else:
        steps = -(-(after - first).days // every_days)
        start = first + timedelta(days=steps * every_days)
    return [start + timedelta(days=i * every_days) for i in range(count)]
