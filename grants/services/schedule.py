"""Work that is due by the clock: asked for by the engine's scheduler every minute. Each job
has a key, so a tick that comes twice (or two engines) queue it once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.models import Committee, FlowJob, Session as Meeting
from grants.services import committee, jobs

PREPARE_FLOW = "prepare_session"
REMINDER_FLOW = "reminders"
RETENTION_FLOW = "retention"


def tick(db: Session, now: datetime) -> list[str]:
    """Keep the next session of every committee planned; at its cut-off, prepare it; close written
    procedures that are decided."""
    queued = []
    for c in db.scalars(select(Committee)):
        committee.ensure_schedule(db, c.id, now)
    for m in db.scalars(select(Meeting).where(Meeting.state == "planned", Meeting.kind == "meeting",
                                              Meeting.cutoff_at.is_not(None), Meeting.cutoff_at <= now,
                                              Meeting.starts_at > now)):
        job = jobs.enqueue(db, PREPARE_FLOW, f"{PREPARE_FLOW}:{m.id}", session_id=m.id)
        queued.append(job.key)
    for session_id in committee.evaluate_circulations(db, now):
        queued.append(f"decide_session:{session_id}")
    # once a day each (the key holds the date): deadlines and reminders, then the retention clean-up
    day = now.date().isoformat()
    for flow in (REMINDER_FLOW, RETENTION_FLOW):
        key = f"{flow}:{day}"
        if db.scalar(select(FlowJob.id).where(FlowJob.key == key)) is None:
            queued.append(jobs.enqueue(db, flow, key, today=day).key)
    return queued
