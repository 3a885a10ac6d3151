"""Reminders with a moved clock: the report becomes due when the project ends, reminders go out
before and after the deadline, and never twice — however often the daily flow runs."""

import uuid
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D

from sqlalchemy import func, select

from grants import clock
from grants.models import Application, Message, Program, Reminder
from grants.services import applications, cases, reminders
from grants.services.actor import Actor
from tests.factories import actor_for


def _paid_case(db, world, project_end: date, due: date):
    applicant = actor_for(db, world.users["applicant_a"])
    system = Actor.system("test")
    with db.session() as s:
        case = applications.create_draft(s, applicant, s.get(Program, world.program_id), world.org_ids["a"],
                                          title="Sprachcafé", requested=D("1000.00"),
                                          project_start=project_end - timedelta(days=60), project_end=project_end)
        applications.submit(s, applicant, case)
        for a in ("start_screening", "mark_ready", "put_on_agenda", "approve", "send_letter", "pay"):
            cases.transition(s, case, a, system)
        case.report_due_on = due
        return case.id


def test_reminders_over_a_moved_clock(db, world):
    case_id = _paid_case(db, world, date(2027, 3, 31), date(2027, 9, 30))
    days = [date(2027, 3, 30), date(2027, 4, 1), date(2027, 8, 31), date(2027, 9, 1), date(2027, 9, 23),
            date(2027, 9, 30), date(2027, 10, 1), date(2027, 10, 2), date(2027, 11, 1), date(2028, 3, 1)]
    log = {}
    for day in days:
        for _ in range(2):                     # every tick twice: nothing twice
            with db.session() as s:
                log.setdefault(day, []).extend(reminders.tick(s, day))
        with db.session() as s:
            log[day].append(s.get(Application, case_id).state)
    assert log[date(2027, 3, 30)] == ["paid"]
    assert log[date(2027, 4, 1)] == ["report_due"]
    assert log[date(2027, 8, 31)] == [f"report:{case_id}:before-30", "report_due"]
    assert log[date(2027, 9, 1)] == ["report_due"]
    assert log[date(2027, 9, 23)] == [f"report:{case_id}:before-7", "report_due"]
    assert log[date(2027, 9, 30)] == ["report_due"]
    assert log[date(2027, 10, 1)] == [f"report:{case_id}:overdue-1", "report_due"]
    assert log[date(2027, 11, 1)] == [f"report:{case_id}:overdue-30", "report_due"]
    assert log[date(2028, 3, 1)] == [f"report:{case_id}:overdue-60", "report_due"]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Reminder)) == 5
        mails = s.scalars(select(Message).where(Message.template == "reminder").order_by(Message.id)).all()
        assert len(mails) == 5 and "überfällig" in mails[-1].subject and "30.09.2027" in mails[0].body


def test_the_daily_schedule_s_run_sends_the_day_s_reminders_once(prefect_harness, config, db, world):
    """This morning's run of the reminders deployment runs here as that run (no parameters: the
    flow works for today on Berlin's clock), and never again, however often the engine polls."""
    from prefect.client.orchestration import get_client

    from grants import runtime
    from grants.engine.runner import JobRunner
    from grants.engine.scheduler import Scheduler
    from grants.models import FlowJob, Letter
    from tests.flows.test_schedule import _due_run, _harness

    today = clock.today()
    case_id = _paid_case(db, world, date(2027, 3, 31), date(2027, 9, 30))
    with db.session() as s:               # the project ended long ago, the report was due yesterday
        case = s.get(Application, case_id)
        case.project_end, case.report_due_on = today - timedelta(days=200), today - timedelta(days=1)
    config = replace(config, instance=f"test-{uuid.uuid4().hex[:8]}")
    runtime.install(config, db)
    runner = JobRunner(db)
    scheduler = Scheduler(db, runner, api_url=_harness(), config=config)
    try:
        scheduler.tick()                               # the daily deployments
        with get_client(sync_client=True) as client:
            due = _due_run(client, scheduler, "reminders")
        assert f"prefect-run:{due.id}" in scheduler.tick()
        runner.drain(timeout=120)
        assert f"prefect-run:{due.id}" not in scheduler.tick()     # done: a second poll runs nothing
        runner.drain(timeout=30)
    finally:
        runtime.reset()
    with db.session() as s:
        [job] = s.scalars(select(FlowJob).where(FlowJob.flow == "reminders"))
        assert (job.state, job.parameters) == ("done", {}), job.error
        assert job.result == {"day": today.isoformat(), "sent": [f"report:{case_id}:overdue-1"]}
        assert [r.key for r in s.scalars(select(Reminder))] == [f"report:{case_id}:overdue-1"]
        assert s.scalar(select(func.count()).select_from(Message).where(Message.template == "reminder")) == 1
        assert s.get(Application, case_id).state == "report_due"
        # the first overdue reminder is also a formal letter in the portal (PDF/A and DOCX)
        letter = s.scalar(select(Letter).where(Letter.application_id == case_id, Letter.kind == "reminder"))
        assert letter is not None and letter.state == "dispatched"
        path = config.storage / letter.pdf_path
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(job.prefect_flow_run_id)
        assert scheduler.deployments[run.deployment_id] == "reminders" and run.state.is_completed()
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(path).pages)
    assert (today - timedelta(days=1)).strftime("%d.%m.%Y") in text and "abgelaufen" in text
