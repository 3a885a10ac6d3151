"""The clock's work: the next session is always planned; at its cut-off the agenda flow puts the
ready cases on it and invites the members — once, however often the scheduler ticks."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from grants.flows import runtime
from grants.flows.engine import JobRunner, Scheduler
from grants.models import AgendaItem, Application, Committee, FlowJob, Message, Session
from grants.services import schedule
from tests.flows.test_session_flow import _committee, _ready_case


def test_next_session_is_planned_and_prepared_at_the_cutoff(prefect_harness, config, db, world):
    _committee(db, world)
    with db.session() as s:
        s.scalar(select(Committee)).cutoff_days = 1
    case_id = _ready_case(db, world, "Sprachcafé", "1000.00")
    now = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)      # a Monday; the session is on Wednesday
    with db.session() as s:
        # plans the next session (cut-off not reached); the day's deadline and retention flows
        assert schedule.tick(s, now) == ["reminders:2026-11-23", "retention:2026-11-23"]
        m = s.scalar(select(Session))
        assert m.starts_at == datetime(2026, 11, 25, 14, tzinfo=timezone.utc)
        assert m.cutoff_at == m.starts_at - timedelta(days=1)
        session_id, cutoff = m.id, m.cutoff_at
    later = cutoff + timedelta(minutes=1)
    with db.session() as s:
        assert schedule.tick(s, later) == [f"prepare_session:{session_id}", "reminders:2026-11-24",
                                           "retention:2026-11-24"]
        schedule.tick(s, later)                            # a second tick queues nothing new
        assert s.scalar(select(func.count()).select_from(FlowJob).where(FlowJob.flow == "prepare_session")) == 1
        assert s.scalar(select(func.count()).select_from(Session)) == 1
    runtime.install(config, db)
    try:
        JobRunner(db).drain(timeout=180)
    finally:
        runtime.reset()
    with db.session() as s:
        assert s.get(Application, case_id).state == "on_agenda"
        assert s.scalar(select(AgendaItem.session_id)) == session_id
        assert s.get(Session, session_id).state == "invited"
        assert s.scalar(select(func.count()).select_from(Message).where(Message.template == "session_invitation")) == 6


def test_scheduler_thread_ticks(db, world):
    runner = JobRunner(db)
    sched = Scheduler(db, runner, seconds=0.05)
    sched.start()
    try:
        import time
        time.sleep(0.3)
    finally:
        sched.stop()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Session)) == 1
