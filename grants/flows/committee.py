"""After a session is closed: decisions recorded, funds committed, applicants told."""

from __future__ import annotations

import logging

from prefect import flow

from grants import runtime
from grants.documents.batch import render_many
from grants.documents.decision_letter import render_letter
from grants.flows import NO_RESULTS
from grants.models import Application, Letter, Program
from grants.services import jobs, letters
from grants.services.committee import decisions, sessions

log = logging.getLogger("grants.flows.committee")


@flow(name="decide-session", retries=3, retry_delay_seconds=5, **NO_RESULTS)
def decide_session(session_id: int) -> dict:
    _, db = runtime.current()
    with db.session() as s:
        return decisions.record_decisions(s, session_id)


@flow(name="prepare-session", retries=3, retry_delay_seconds=5, **NO_RESULTS)
def prepare_session(session_id: int) -> dict:
    """At the cut-off: every case ready for the committee on the agenda, members invited."""
    config, db = runtime.current()
    with db.session() as s:
        items = sessions.build_agenda(s, session_id) if sessions.get_sitting(s, session_id).state == "planned" else []
        invited = sessions.invite(s, session_id, config.base_url)
    return {"session": session_id, "items_added": len(items), "invited": invited}


@flow(name="decision-letters", retries=3, retry_delay_seconds=5, **NO_RESULTS)
def decision_letters(case_ids: list[int], workers: int | None = None) -> dict:
    """All letters of a session at once: rendered on every core, each kept and released as soon
    as it is rendered (a retry after a failure renders only what is not kept yet)."""

    config, db = runtime.current()
    todo = []
    with db.session() as s:
        for case_id in case_ids:
            found = letters.context(s, case_id)
            if found is None:
                continue
            kind, data = found
            if s.scalar(Letter.__table__.select().where(Letter.application_id == case_id, Letter.kind == kind)) is not None:
                continue
            hold = letters.hold_for_review(s.get_one(Program, s.get_one(Application, case_id).program_id))
            todo.append((case_id, kind, data, hold))
    made = 0

    def keep(i: int, pdf: bytes, docx: bytes) -> None:
        nonlocal made
        case_id, kind, _, hold = todo[i]
        with db.session() as s:         # one short transaction a letter, outside any rendering
            made += letters.store(s, config.storage, case_id, kind, pdf, docx, hold=hold) is not None

    failed: list[int] = []

    def own_job(i: int, error: Exception) -> None:
        # one letter's fault must not hold up the others: it becomes a job of its own, which is
        # retried, and shown to the admins with its error if it keeps failing
        case_id = todo[i][0]
        log.error("decision letter for case %s failed: %s", case_id, error, exc_info=error)
        failed.append(case_id)
        with db.session() as s:
            jobs.enqueue(s, "decision_letter", f"decision_letter:{case_id}", case_id=case_id)

    render_many([(kind, data) for _, kind, data, _ in todo], workers, done=keep, failed=own_job)
    return {"letters": made, "failed": failed}


@flow(name="decision-letter", retries=3, retry_delay_seconds=5, **NO_RESULTS)
def decision_letter(case_id: int) -> dict:
    """After a decision: the Bescheid as PDF/A and DOCX, kept, and released unless held for review."""

    config, db = runtime.current()
    with db.session() as s:
        found = letters.context(s, case_id)
        if found is None:
            return {"case_id": case_id, "letter": None}
        kind, data = found
        if s.scalar(Letter.__table__.select().where(Letter.application_id == case_id, Letter.kind == kind)) is not None:
            return {"case_id": case_id, "letter": "exists"}
        hold = letters.hold_for_review(s.get_one(Program, s.get_one(Application, case_id).program_id))
    pdf, docx = render_letter(kind, data)         # outside any transaction
    with db.session() as s:
        letter = letters.store(s, config.storage, case_id, kind, pdf, docx, hold=hold)
        return {"case_id": case_id, "letter": letter.id if letter else "exists"}
