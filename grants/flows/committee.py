"""After a session is closed: decisions recorded, funds committed, applicants told."""

from __future__ import annotations

from prefect import flow

from grants.flows import runtime
from grants.services import committee


@flow(name="decide-session", retries=3, retry_delay_seconds=5)
def decide_session(session_id: int) -> dict:
    _, db = runtime.current()
    with db.session() as s:
        return committee.record_decisions(s, session_id)
