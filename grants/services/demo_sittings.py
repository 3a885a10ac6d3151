"""What the Koordinierungsstab does in the demo, through the services of its pages: sittings planned,
prepared at the cut-off (by the scheduler's tick), held with attendance, a recusal, motions and every
member's vote, and the minutes signed; and a written procedure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.models import AgendaItem
from grants.services import minutes, schedule
from grants.services.committee import circulation, sessions, voting
from grants.services.demo_steps import wait
from grants.services.demo_world import MEMBERS, World


def plan(w: World, name: str, starts: datetime) -> None:
    """The chair puts a sitting on the calendar; its cut-off follows from the committee's rules."""
    with w.db.session() as s:
        w.sittings[name] = sessions.plan_session(s, w.actor(s, "chair"), w.committee_id, starts).id


def tick(w: World) -> None:
    """What the engine's scheduler does every 30 s: at a cut-off the agenda is built and the members
    invited (prepare-session flow); written procedures that are decided are closed."""
    with w.db.session() as s:
        schedule.tick(s, clock.now())
    w.settle()


def _item(s: Session, w: World, sitting: str, title: str) -> AgendaItem:
    return s.scalars(select(AgendaItem).where(AgendaItem.session_id == w.sittings[sitting],
                                              AgendaItem.application_id == w.cases[title])).one()


def recuse(w: World, sitting: str, title: str, key: str, reason: str) -> None:
    """A member declares a conflict of interest for one item before the sitting."""
    with w.db.session() as s:
        voting.declare_conflict(s, w.actor(s, key), _item(s, w, sitting, title).id, w.members[key], reason)


@dataclass(frozen=True)
class Item:
    title: str
    motion: str
    votes: dict[str, str] = field(default_factory=dict)   # member key -> yes | no | abstain
    amount: Decimal | None = None
    reasons: str = ""


def hold(w: World, sitting: str, present: set[str], items: list[Item]) -> None:
    """The chair records attendance, opens, puts each motion, every member votes, the chair counts,
    closes; the decision flow then records the decisions and makes the letters."""
    sid = w.sittings[sitting]
    with w.db.session() as s:
        chair = w.actor(s, "chair")
        for key, *_ in MEMBERS:
            sessions.set_attendance(s, chair, sid, w.members[key], key in present)
    wait(minutes=5)
    with w.db.session() as s:
        sessions.open_session(s, w.actor(s, "chair"), sid)
    for it in items:
        wait(minutes=11)
        with w.db.session() as s:
            item_id = _item(s, w, sitting, it.title).id
            voting.set_motion(s, w.actor(s, "chair"), item_id, it.motion, amount=it.amount, reasons=it.reasons)
        wait(minutes=3)
        for key, choice in it.votes.items():
            with w.db.session() as s:
                voting.cast_vote(s, w.actor(s, key), item_id, w.members[key], choice)
        with w.db.session() as s:
            voting.conclude_item(s, w.actor(s, "chair"), item_id)
    wait(minutes=9)
    with w.db.session() as s:
        sessions.close_session(s, w.actor(s, "chair"), sid)
    w.settle()


def sign_minutes(w: World, sitting: str) -> None:
    """Chair and minute-taker sign; the minutes are made again after each signature (as on the web)."""
    sid = w.sittings[sitting]
    for key in ("chair", "soziales"):
        with w.db.session() as s:
            minutes.sign(s, w.actor(s, key), sid)
        with w.db.session() as s:
            data = minutes.context(s, sid)
        pdf, docx = minutes.render_minutes(data)
        with w.db.session() as s:
            minutes.store(s, w.config.storage, sid, pdf, docx)
        wait(minutes=40)


def circulate(w: World, name: str, title: str, deadline: datetime) -> None:
    """The chair puts an urgent case to the members in writing."""
    with w.db.session() as s:
        w.sittings[name] = circulation.start_circulation(s, w.actor(s, "chair"), w.committee_id, [w.cases[title]],
                                                         deadline, w.config.base_url).id
    w.settle()


def written_vote(w: World, name: str, title: str, key: str, choice: str) -> None:
    with w.db.session() as s:
        circulation.cast_written_vote(s, w.actor(s, key), _item(s, w, name, title).id, choice)
