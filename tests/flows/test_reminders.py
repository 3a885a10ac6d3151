"""Reminders with a moved clock: the report becomes due when the project ends, reminders go out
before and after the deadline, and never twice — however often the scheduler ticks."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D

from sqlalchemy import func, select

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


def test_the_scheduler_runs_the_reminder_flow_once_a_day(prefect_harness, config, db, world):
    from grants.flows import runtime
    from grants.flows.engine import JobRunner
    from grants.models import FlowJob
    from grants.services import schedule

    case_id = _paid_case(db, world, date(2027, 3, 31), date(2027, 9, 30))
    with db.session() as s:
        keys = schedule.tick(s, datetime(2027, 10, 5, 8, tzinfo=timezone.utc))
        again = schedule.tick(s, datetime(2027, 10, 5, 8, 1, tzinfo=timezone.utc))     # a minute later
    assert "reminders:2027-10-05" in keys and "retention:2027-10-05" in keys
    assert "reminders:2027-10-05" not in again
    runtime.install(config, db)
    try:
        JobRunner(db).drain(timeout=120)
    finally:
        runtime.reset()
    with db.session() as s:
        job = s.scalar(select(FlowJob).where(FlowJob.key == "reminders:2027-10-05"))
        assert job.state == "done", job.error
        assert [r.key for r in s.scalars(select(Reminder))] == [f"report:{case_id}:overdue-1"]
        assert s.get(Application, case_id).state == "report_due"
        # the first overdue reminder is also a formal letter in the portal (PDF/A and DOCX)
        from grants.models import Letter

        letter = s.scalar(select(Letter).where(Letter.application_id == case_id, Letter.kind == "reminder"))
        assert letter is not None and letter.state == "dispatched"
        path = config.storage / letter.pdf_path
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(path).pages)
    assert "30.09.2027" in text and "abgelaufen" in text
