"""The minutes (Niederschrift, § 93 VwVfG): place, date, attendance, items, motions, votes,
recusals, decisions; as PDF/A and DOCX; signed off in the system by chair and minute-taker."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants import clock
from grants.documents import docx_render, render
from grants.models import (
    AgendaItem,
    Application,
    AuditEvent,
    CommitteeMember,
    ConflictOfInterest,
    Letter,
    MinutesSignature,
    Organisation,
    Sitting,
    User,
)
from grants.services import audit
from grants.services.actor import Actor
from grants.services.committee import members as membership
from grants.services.committee import sessions
from grants.services.errors import Conflict, Forbidden, NotFound
from grants.services.letters import _write

WORDS = {"approve": "bewilligen", "approve_partly": "teilweise bewilligen", "reject": "ablehnen", "defer": "vertagen"}
OUTCOMES = {"approve": "bewilligt", "approve_partly": "teilweise bewilligt", "reject": "abgelehnt",
            "defer": "vertagt", None: "offen"}


CIRCULATION_RESULTS = {"carried": "im Umlaufverfahren angenommen", "failed": "im Umlaufverfahren abgelehnt",
                       "ended_by_objection": "Umlaufverfahren beendet (Widerspruch oder keine Stimme bis zur Frist)"}


def _result(event: AuditEvent) -> str:
    if event.action == "vote_counted":
        return "angenommen" if event.data["carried"] else "abgelehnt"
    state: str = event.data.get("state", "")
    return CIRCULATION_RESULTS.get(state, state)


def context(db: Session, session_id: int) -> dict:
    m = db.get(Sitting, session_id)
    if m is None:
        raise NotFound("Diese Sitzung gibt es nicht.")
    members = db.execute(select(CommitteeMember, User).join(User, User.id == CommitteeMember.user_id)
                         .where(CommitteeMember.committee_id == m.committee_id)).all()
    present = sessions.present_ids(db, m.id)
    names = {mem.id: f"{u.name}{' (beratend)' if not mem.voting else ''}{', Vorsitz' if mem.function == 'chair' else ''}"
             for mem, u in members}
    q = sessions.quorum_of(db, m.id)
    items = []
    for item, case, org in db.execute(select(AgendaItem, Application, Organisation)
                                      .join(Application, Application.id == AgendaItem.application_id)
                                      .join(Organisation, Organisation.id == Application.organisation_id)
                                      .where(AgendaItem.session_id == m.id).order_by(AgendaItem.position)):
        recusals = [f"{names.get(c.member_id, c.member_id)} war befangen ({c.reason}), hat an Beratung und Abstimmung "
                    "nicht teilgenommen." for c in db.scalars(select(ConflictOfInterest)
                                                              .where(ConflictOfInterest.agenda_item_id == item.id))]
        # counted in the session, or (written procedure) evaluated at its end: the motion is the
        # item's own there
        motions = [{"motion": WORDS.get(e.data.get("motion", item.motion), e.data.get("motion", item.motion)),
                    "yes": e.data["yes"], "no": e.data["no"], "abstain": e.data["abstain"],
                    "result": _result(e), "amount": None}
                   for e in db.scalars(select(AuditEvent).where(AuditEvent.action.in_(("vote_counted",
                                                                                       "circulation_evaluated")),
                                                                AuditEvent.object_type == "agenda_item",
                                                                AuditEvent.object_id == item.id).order_by(AuditEvent.id))]
        if item.motion_amount and motions:
            motions[-1]["amount"] = render.euro(item.motion_amount)
        items.append({"position": item.position, "title": case.title, "file_number": case.file_number,
                      "organisation": org.name, "requested": render.euro(case.requested), "recusals": recusals,
                      "motions": motions,
                      "outcome": _outcome(item.outcome, case.state),
                      "reasons": item.motion_reasons})
    signatures = [f"{'Vorsitz' if s.capacity == 'chair' else 'Schriftführung'}: {u.name}, "
                  f"elektronisch unterschrieben am {clock.local(s.signed_at).strftime('%d.%m.%Y %H:%M')}"
                  for s, u in db.execute(select(MinutesSignature, User).join(User, User.id == MinutesSignature.user_id)
                                         .where(MinutesSignature.session_id == m.id).order_by(MinutesSignature.id))]
    fmt = lambda d: clock.local(d).strftime("%H:%M") if d else "–"  # noqa: E731
    return {"recipient": ["Koordinierungsstab Integration"], "today": render.german_date(clock.local_date(m.starts_at)),
            "number": m.number, "date": render.german_date(clock.local_date(m.starts_at)), "place": m.place,
            "opened": fmt(m.opened_at), "closed": fmt(m.closed_at),
            "present": [names[i] for i in names if i in present], "absent": [names[i] for i in names if i not in present],
            "quorum": (f"gegeben ({q.present_voting} von {q.voting_members} stimmberechtigten Mitgliedern)" if q.reached
                       else f"nicht gegeben ({q.present_voting} von {q.voting_members})"),
            "items": items, "signatures": signatures}


def _outcome(outcome: str | None, case_state: str) -> str | None:
    words = OUTCOMES.get(outcome, outcome) if outcome else outcome
    if words and case_state == "withdrawn":
        words += " – nicht vollzogen: der Antrag wurde vor Abschluss der Sitzung zurückgezogen"
    return words


def signature_count(db: Session, session_id: int) -> int:
    return db.scalar(select(func.count()).select_from(MinutesSignature)
                     .where(MinutesSignature.session_id == session_id)) or 0


def sign(db: Session, actor: Actor, session_id: int) -> MinutesSignature:
    """The chair and the minute-taker sign the minutes of a closed session (who and when recorded)."""
    m = db.get(Sitting, session_id)
    if m is None:
        raise NotFound("Diese Sitzung gibt es nicht.")
    if m.state != "closed":
        raise Conflict("Unterschrieben wird die Niederschrift einer geschlossenen Sitzung.")
    me = membership.member_of(db, actor, m.committee_id)
    if me is None or me.function not in ("chair", "minute_taker"):
        raise Forbidden("Die Niederschrift unterschreiben der Vorsitz und die Schriftführung.")
    existing = db.scalar(select(MinutesSignature).where(MinutesSignature.session_id == m.id,
                                                        MinutesSignature.capacity == me.function))
    if existing is not None:
        return existing
    digest = hashlib.sha256(repr(context(db, session_id)["items"]).encode()).hexdigest()
    sig = MinutesSignature(session_id=m.id, capacity=me.function, user_id=actor.user_id, content_sha256=digest)
    db.add(sig)
    db.flush()
    audit.record(db, actor, "minutes_signed", obj=sig, data={"session": m.number, "capacity": me.function})
    return sig


def render_minutes(data: dict) -> tuple[bytes, bytes]:

    title = f"Niederschrift {data['number']}. Sitzung"
    html = render.html("minutes.html", data)
    return render.pdf("minutes.html", data, data={"kind": "minutes", **data}, title=title), docx_render.build(html, title)


def store(db: Session, home, session_id: int, pdf: bytes, docx: bytes) -> Letter:
    """Every rendering is a new version (after each signature the minutes change)."""
    from pathlib import Path

    from sqlalchemy import func


    version = (db.scalar(select(func.max(Letter.version)).where(Letter.session_id == session_id,
                                                                Letter.kind == "minutes")) or 0) + 1
    base = Path("minutes") / f"sitzung-{session_id}"
    pdf_rel, docx_rel = base / f"niederschrift-v{version}.pdf", base / f"niederschrift-v{version}.docx"
    letter = Letter(session_id=session_id, kind="minutes", version=version, state="released",
                    pdf_path=str(pdf_rel), docx_path=str(docx_rel), pdf_sha256=_write(home / pdf_rel, pdf),
                    docx_sha256=_write(home / docx_rel, docx))
    db.add(letter)
    db.flush()
    return letter
