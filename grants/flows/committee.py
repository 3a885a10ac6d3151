"""After a session is closed: decisions recorded, funds committed, applicants told."""

from __future__ import annotations

from prefect import flow

from grants.flows import runtime
from grants.models import Session as Meeting
from grants.services import committee


@flow(name="decide-session", retries=3, retry_delay_seconds=5)
def decide_session(session_id: int) -> dict:
    _, db = runtime.current()
    with db.session() as s:
        return committee.record_decisions(s, session_id)


@flow(name="prepare-session", retries=3, retry_delay_seconds=5)
def prepare_session(session_id: int) -> dict:
    """At the cut-off: every case ready for the committee on the agenda, members invited."""
    config, db = runtime.current()
    with db.session() as s:
        items = committee.build_agenda(s, session_id) if s.get(Meeting, session_id).state == "planned" else []
        invited = committee.invite(s, session_id, config.base_url)
    return {"session": session_id, "items_added": len(items), "invited": invited}
