"""After the proof of use: the Rückforderungsbescheid; and the retention clean-up."""

from __future__ import annotations

from datetime import date

from prefect import flow
from sqlalchemy import select

from grants import clock, runtime
from grants.documents import docx_render, render
from grants.flows import NO_RESULTS
from grants.models import Application, Letter, Program
from grants.services import letters, reclaims
from grants.services import reminders as reminder_service
from grants.services import retention as retention_service

RECLAIM_KIND = "reclaim"


def _day(today: str | None) -> date:
    """The day a daily flow works for: the one asked for, else today on the city's clock (a
    scheduled run has no parameters, and on a machine that runs on UTC 00:30 in Berlin is still
    yesterday)."""
    return date.fromisoformat(today) if today else clock.today()


def _letter(case_id: int, kind: str, template: str, title: str, data_of) -> dict:
    """Render a letter as PDF/A and DOCX, keep it, release it unless held for review. Safe to run
    again: the first version is written once."""

    config, db = runtime.current()
    with db.session() as s:
        if s.scalar(select(Letter.id).where(Letter.application_id == case_id, Letter.kind == kind)):
            return {"case_id": case_id, "letter": "exists"}
        data = data_of(s, case_id)
        if data is None:
            return {"case_id": case_id, "letter": None}
        hold = letters.hold_for_review(s.get_one(Program, s.get_one(Application, case_id).program_id))
    title = f"{title} {data['file_number']}"
    html = render.html(template, data)        # rendered outside any transaction
    pdf = render.pdf(template, data, data={"kind": kind, **data}, title=title, rendered=html)
    docx = docx_render.build(html, title)
    with db.session() as s:
        letter = letters.store(s, config.storage, case_id, kind, pdf, docx, hold=hold)
        return {"case_id": case_id, "letter": letter.id if letter else "exists"}


@flow(name="reclaim-letter", retries=3, retry_delay_seconds=5, **NO_RESULTS)
def reclaim_letter(case_id: int) -> dict:
    """The Rückforderungsbescheid."""

    return _letter(case_id, RECLAIM_KIND, "reclaim.html", "Rückforderungsbescheid", reclaims.letter_data)


@flow(name="reminder-letter", retries=3, retry_delay_seconds=5, **NO_RESULTS)
def reminder_letter(case_id: int) -> dict:
    """The formal reminder when the proof of use is overdue."""

    return _letter(case_id, "reminder", "reminder.html", "Erinnerung Verwendungsnachweis", reminder_service.letter_data)


@flow(name="retention", retries=2, retry_delay_seconds=30, **NO_RESULTS)
def retention(today: str | None = None) -> dict:
    """Drafts never submitted are deleted, closed cases anonymised, once their time is up."""

    config, db = runtime.current()
    day = _day(today)
    with db.session() as s:
        result = retention_service.run(s, config.uploads_dir, config.storage, day)
    for path in result.pop("files"):        # only after the commit: a rollback keeps the files
        path.unlink(missing_ok=True)
    return result


@flow(name="reminders", retries=2, retry_delay_seconds=30, **NO_RESULTS)
def reminders(today: str | None = None) -> dict:
    """Proof-of-use deadlines: reports asked for when projects end, reminders before and after the
    deadline, each once (Prefect's schedule runs this flow every day; a second run that day finds
    nothing left to send)."""

    _, db = runtime.current()
    day = _day(today)
    with db.session() as s:
        sent = reminder_service.tick(s, day)
    return {"day": day.isoformat(), "sent": sent}
