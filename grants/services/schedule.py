"""Work that is due by the clock: asked for by the engine's scheduler thread about once a minute.
Each job has a key, so a tick that comes twice (or two engines) queue it once.

The daily flows (deadline reminders, retention) are not queued here: they are Prefect deployment
schedules (grants.engine.deployments.DAILY), so their times are in Prefect's UI and its history
shows every day's run. There is no fallback here for a Prefect server that is away: every flow run
needs its API, so a job queued here could not run either, and the schedule's run waits in Prefect
(Late) and runs once the server is back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.models import Committee, FlowJob, Sitting
from grants.services import jobs
from grants.services.committee import circulation, sessions

PREPARE_FLOW = "prepare_session"
RUN_KEY = "prefect-run:"


def tick(db: Session, now: datetime) -> list[str]:
    """Keep the next session of every committee planned; at its cut-off, prepare it; close written
    procedures that are decided."""
    queued = []
    for c in db.scalars(select(Committee)):
        sessions.ensure_schedule(db, c.id, now)
    for m in db.scalars(select(Sitting).where(Sitting.state == "planned", Sitting.kind == "meeting",
                                              Sitting.cutoff_at.is_not(None), Sitting.cutoff_at <= now,
                                              Sitting.starts_at > now)):
        job = jobs.enqueue(db, PREPARE_FLOW, f"{PREPARE_FLOW}:{m.id}", session_id=m.id)
        queued.append(job.key)
    for session_id in circulation.evaluate_circulations(db, now):
        queued.append(f"decide_session:{session_id}")
    return queued


def take_runs(db: Session, runs: list[tuple[str, str, dict]]) -> list[str]:
    """Due runs of Prefect's schedules, as (flow run id, flow, parameters), become jobs that run as
    those flow runs (embedded default). The key holds the run's id: a run seen by two polls is
    one job, and a job done is never queued again."""
    queued = []
    for run_id, flow, parameters in runs:
        key = f"{RUN_KEY}{run_id}"
        if db.scalar(select(FlowJob.id).where(FlowJob.key == key)) is None:
            jobs.enqueue(db, flow, key, **parameters).prefect_flow_run_id = run_id
            queued.append(key)
    return queued
