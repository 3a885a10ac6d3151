"""Requesting background work. A job row is written in the same transaction as the change that
asks for it (transactional outbox): no flow for a change that rolled back, no change without
its flow. The engine (grants.engine) picks the rows up after commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from grants import clock
from grants.models import FlowJob

# A failed run is tried again after 30 s, 2, 8 and 32 minutes (a mail server or storage away for a
# few minutes loses nothing), then it has failed for good and the admins are told.
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(seconds=30)


def backoff(attempts: int) -> timedelta:
    return FIRST_RETRY * 4 ** max(0, attempts - 1)


def runnable(now: datetime | None = None) -> ColumnElement[bool]:
    """Queued and not waiting for its retry time."""
    return (FlowJob.state == "queued") & or_(FlowJob.not_before.is_(None), FlowJob.not_before <= (now or clock.now()))


def enqueue(db: Session, flow: str, key: str, **parameters) -> FlowJob:
    """Ask for `flow` to run with `parameters`; the same `key` is queued only once."""
    existing = db.scalar(select(FlowJob).where(FlowJob.key == key))
    if existing is not None:
        return existing
    job = FlowJob(key=key, flow=flow, parameters=parameters)
    db.add(job)
    db.flush()
    return job


def requeue(db: Session, key: str) -> FlowJob | None:
    """Run a finished or failed job again (e.g. resubmission), keeping one row per key."""
    job = db.scalar(select(FlowJob).where(FlowJob.key == key))
    if job is not None and job.state in ("done", "failed"):
        job.state = "queued"
        job.error = ""
        job.not_before = None
        # scale-out: a new Prefect run, not the finished one (grants.engine.dispatch)
        job.prefect_flow_run_id = job.worker = None
    return job
