"""The clock's work: the next session is always planned; at its cut-off the agenda flow puts the
ready cases on it and invites the members — once, however often the scheduler ticks. The daily
flows are deployment schedules: Prefect's own scheduler makes their runs, and the embedded engine
runs the due ones, each once, as those runs."""

import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from grants import clock, runtime
from grants.engine.runner import JobRunner
from grants.engine.scheduler import Scheduler
from grants.models import AgendaItem, Application, Committee, FlowJob, Message, Sitting
from grants.services import schedule
from tests.flows.test_session_flow import _committee, _ready_case


def _harness() -> str:
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


def _due_run(client, scheduler: Scheduler, key: str, minutes_ago: int = 5, **parameters):
    """A run of the deployment whose time has come: as Prefect's scheduler made it for this morning,
    or as a click on "Run" in its UI makes one. Prefect keeps the wall clock."""
    from prefect.states import Scheduled

    [deployment_id] = [i for i, k in scheduler.deployments.items() if k == key]
    return client.create_flow_run_from_deployment(
        deployment_id, parameters=parameters,
        state=Scheduled(scheduled_time=clock.wall() - timedelta(minutes=minutes_ago)))


def _daily_jobs(db) -> list[FlowJob]:
    with db.session() as s:
        return list(s.scalars(select(FlowJob).where(FlowJob.flow.in_(("reminders", "retention")))
                              .order_by(FlowJob.id)))


@pytest.fixture
def scheduler(prefect_harness, config, db):
    """The embedded engine's scheduler against the session's Prefect server, with deployments of
    its own (tests share the server, not their runs)."""
    config = replace(config, instance=f"test-{uuid.uuid4().hex[:8]}", reminders_at="05:30")
    runtime.install(config, db)
    try:
        yield Scheduler(db, JobRunner(db), api_url=_harness(), config=config)
    finally:
        runtime.reset()


def test_next_session_is_planned_and_prepared_at_the_cutoff(prefect_harness, config, db, world):
    _committee(db, world)
    with db.session() as s:
        s.scalar(select(Committee)).cutoff_days = 1
    case_id = _ready_case(db, world, "Sprachcafé", "1000.00")
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)      # a Monday; the session is on Wednesday
    with db.session() as s:
        # plans the next session (cut-off not reached); the daily flows are Prefect's schedules now
        assert schedule.tick(s, now) == []
        m = s.scalar(select(Sitting))
        assert m.starts_at == datetime(2026, 11, 25, 13, tzinfo=UTC)     # 14:00 in Berlin (CET)
        assert m.cutoff_at == m.starts_at - timedelta(days=1)
        session_id, cutoff = m.id, m.cutoff_at
    later = cutoff + timedelta(minutes=1)
    with db.session() as s:
        assert schedule.tick(s, later) == [f"prepare_session:{session_id}"]
        schedule.tick(s, later)                            # a second tick queues nothing new
        assert s.scalar(select(func.count()).select_from(FlowJob).where(FlowJob.flow == "prepare_session")) == 1
        assert s.scalar(select(func.count()).select_from(Sitting)) == 1
    runtime.install(config, db)
    try:
        JobRunner(db).drain(timeout=180)
    finally:
        runtime.reset()
    with db.session() as s:
        assert s.get(Application, case_id).state == "on_agenda"
        assert s.scalar(select(AgendaItem.session_id)) == session_id
        assert s.get(Sitting, session_id).state == "invited"
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
        assert s.scalar(select(func.count()).select_from(Sitting)) == 1


def test_the_daily_flows_are_prefect_schedules_on_berlin_s_clock(scheduler, db):
    """Prefect's scheduler service makes the coming days' runs: at 05:30 Berlin time, summer or
    winter. None of them is due yet, so nothing is queued here."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    scheduler.tick()                         # makes the deployments
    assert sorted(scheduler.deployments.values()) == ["reminders", "retention"]   # the others run from jobs
    with get_client(sync_client=True) as client:
        found = {}
        for deployment_id, key in scheduler.deployments.items():
            deployment = client.read_deployment(deployment_id)
            assert deployment.name == scheduler.config.instance
            [s] = deployment.schedules
            found[key] = (s.schedule.cron, s.schedule.timezone, s.active)
        assert found == {"reminders": ("30 5 * * *", "Europe/Berlin", True),      # GRANTS_REMINDERS_AT=05:30
                         "retention": ("0 3 * * *", "Europe/Berlin", True)}       # the default
        [reminders] = [i for i, k in scheduler.deployments.items() if k == "reminders"]
        deadline = time.monotonic() + 60
        runs = []
        while len(runs) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
            runs = client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[reminders])))
    assert len(runs) >= 3, "Prefect's scheduler made no runs"
    assert all(r.auto_scheduled and r.state.is_scheduled() and r.expected_start_time > clock.wall() for r in runs)
    assert {clock.local(r.expected_start_time).strftime("%H:%M") for r in runs} == {"05:30"}
    days = sorted(clock.local(r.expected_start_time).date() for r in runs)
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))]     # one a day
    assert scheduler.tick() == [] and _daily_jobs(db) == []


def test_a_due_run_runs_here_once_as_that_run(scheduler, db):
    from prefect.client.orchestration import get_client

    scheduler.tick()
    with get_client(sync_client=True) as client:
        run = _due_run(client, scheduler, "retention")
        assert scheduler.tick() == [f"prefect-run:{run.id}"]
        scheduler.runner.drain(timeout=60)
        assert client.read_flow_run(run.id).state.is_completed()
        assert scheduler.tick() == []        # done: a later tick queues nothing
    [job] = _daily_jobs(db)
    assert (job.key, job.state, job.parameters) == (f"prefect-run:{run.id}", "done", {})


def test_after_days_away_only_the_latest_due_run_runs(scheduler, db):
    """Prefect was off for three days: three morning runs are due. The daily flows work for today,
    so the latest runs and the older ones are cancelled, with the reason in Prefect's history."""
    from prefect.client.orchestration import get_client

    scheduler.tick()
    with get_client(sync_client=True) as client:
        old = [_due_run(client, scheduler, "retention", minutes_ago=m) for m in (3 * 1440, 2 * 1440)]
        latest = _due_run(client, scheduler, "retention", minutes_ago=1440)
        assert scheduler.tick() == [f"prefect-run:{latest.id}"]
        scheduler.runner.drain(timeout=60)
        assert client.read_flow_run(latest.id).state.is_completed()
        for run in old:
            state = client.read_flow_run(run.id).state
            assert state.is_cancelled() and "does today's work" in state.message
    assert [j.key for j in _daily_jobs(db)] == [f"prefect-run:{latest.id}"]


def test_the_times_are_configuration(tmp_path):
    from grants.config import load_config

    home = {"GRANTS_HOME": str(tmp_path), "GRANTS_SECRET_KEY": "x"}
    config = load_config(home)
    assert (config.reminders_at, config.retention_at) == ("06:00", "03:00")
    assert load_config({**home, "GRANTS_REMINDERS_AT": "7:15"}).reminders_at == "07:15"
    for wrong in ("25:00", "6", "06:5", "six"):
        with pytest.raises(ValueError, match="GRANTS_RETENTION_AT"):
            load_config({**home, "GRANTS_RETENTION_AT": wrong})


def test_a_run_cancelled_in_prefect_before_it_ran_does_not_run(scheduler, db):
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled

    scheduler.tick()
    with get_client(sync_client=True) as client:
        run = _due_run(client, scheduler, "retention", today="2026-11-23")
        assert scheduler.tick() == [f"prefect-run:{run.id}"]
        client.set_flow_run_state(run.id, Cancelled(message="not today"), force=True)
        scheduler.runner.drain(timeout=60)
        assert client.read_flow_run(run.id).state.is_cancelled()
    with db.session() as s:
        job = s.scalar(select(FlowJob).where(FlowJob.key == f"prefect-run:{run.id}"))
        assert job.parameters == {"today": "2026-11-23"}     # a run started by hand may name the day
        assert job.state == "failed" and "Cancelled" in job.error


def test_a_run_left_running_by_a_dead_process_is_crashed_and_done_again(scheduler, db):
    from prefect.client.orchestration import get_client
    from prefect.states import Running

    scheduler.tick()
    with get_client(sync_client=True) as client:
        run = _due_run(client, scheduler, "retention")
        scheduler.tick()
        # the process died in the middle of the run; after the restart the job is queued again
        client.set_flow_run_state(run.id, Running(), force=True)
        scheduler.runner.drain(timeout=60)
        assert client.read_flow_run(run.id).state.is_crashed()
    with db.session() as s:
        job = s.scalar(select(FlowJob).where(FlowJob.key == f"prefect-run:{run.id}"))
        assert job.state == "done", job.error


def test_a_deployment_deleted_in_prefect_is_made_again(scheduler):
    from prefect.client.orchestration import get_client

    scheduler.tick()
    [gone] = [i for i, k in scheduler.deployments.items() if k == "retention"]
    with get_client(sync_client=True) as client:
        client.delete_deployment(gone)
        scheduler.tick()
        assert gone not in scheduler.deployments and sorted(scheduler.deployments.values()) == ["reminders", "retention"]
        assert all(client.read_deployment(i) for i in scheduler.deployments)
