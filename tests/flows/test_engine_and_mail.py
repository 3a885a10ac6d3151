"""Prefect actually runs the flows: the job runner takes queued work, mail goes out through a
real SMTP server (aiosmtpd on loopback) or into the outbox, and nothing is sent twice."""

import email
import email.policy
import socket
from dataclasses import replace
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from grants import runtime
from grants.engine.runner import JobRunner
from grants.models import FlowJob, Message
from grants.services import messenger


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", inbox
    controller.stop()


def _queue_mail(db, key="k1"):
    with db.session() as s:
        return messenger.send(s, key=key, to="verein@example.org", subject="Eingangsbestätigung DQD-2026-0001",
                              body="Ihr Antrag ist eingegangen.", template="receipt").id


def test_mail_goes_out_over_smtp_once(prefect_harness, config, db, smtp):
    url, inbox = smtp
    runtime.install(replace(config, smtp_url=url), db)
    try:
        msg_id = _queue_mail(db)
        _queue_mail(db)  # the same key again: recorded once
        runner = JobRunner(db, workers=2)
        runner.drain(timeout=120)
        # a re-run of the same flow must not send again
        with db.session() as s:
            job = s.scalar(select(FlowJob).where(FlowJob.flow == messenger.DELIVER_FLOW))
            job.state = "queued"
        runner.drain(timeout=120)
    finally:
        runtime.reset()
    assert len(inbox.messages) == 1
    rcpt, m = inbox.messages[0]
    assert rcpt == ["verein@example.org"]
    assert m["Subject"] == "Eingangsbestätigung DQD-2026-0001"
    assert "Ihr Antrag ist eingegangen." in m.get_content()
    with db.session() as s:
        msg = s.get(Message, msg_id)
        assert msg.state == "sent" and msg.sent_at is not None
        assert s.scalar(select(FlowJob).where(FlowJob.flow == messenger.DELIVER_FLOW)).state == "done"


def test_without_smtp_mail_is_an_eml_file_in_the_outbox(prefect_harness, config, db):
    runtime.install(config, db)
    try:
        _queue_mail(db, key="k2")
        JobRunner(db).drain(timeout=120)
    finally:
        runtime.reset()
    files = list(config.outbox_dir.glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes())
    assert parsed["To"] == "verein@example.org"


def test_a_job_left_running_by_a_dead_process_runs_again(prefect_harness, config, db):
    runtime.install(config, db)
    try:
        _queue_mail(db, key="k3")
        with db.session() as s:
            job = s.scalar(select(FlowJob))
            job.state, job.worker = "running", "dead-host:1"
        runner = JobRunner(db)
        assert runner.recover() == 1
        runner.drain(timeout=120)
    finally:
        runtime.reset()
    assert len(list(config.outbox_dir.glob("*.eml"))) == 1


def test_a_mail_server_away_for_minutes_loses_no_mail(prefect_harness, config, db, monkeypatch):
    """The flow's own retries (seconds) are used up; the job is tried again later (minutes), and
    the mail goes out once the server is back."""
    from datetime import timedelta

    from grants import clock
    from grants.flows import messages as flow_module
    from grants.services import jobs

    # no waiting between the flow's own retries in the test; the retries themselves still happen
    monkeypatch.setattr(flow_module.deliver_task, "retry_delay_seconds", [0, 0, 0])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    runtime.install(replace(config, smtp_url=f"smtp://127.0.0.1:{dead_port}"), db)
    try:
        msg_id = _queue_mail(db, key="k4")
        JobRunner(db).drain(timeout=120)           # returns: the job waits for its retry time
        with db.session() as s:
            msg, job = s.get(Message, msg_id), s.scalar(select(FlowJob))
            assert msg.state == "failed" and "Connection" in msg.error
            assert msg.attempts == 4  # first try and three retries
            assert (job.state, job.attempts) == ("queued", 1) and "Connection" in job.error
            assert job.not_before - clock.now() > timedelta(seconds=20)
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=dead_port)
        controller.start()                         # the server is back
        try:
            with clock.travel(clock.now() + jobs.backoff(1) + timedelta(seconds=1)):
                JobRunner(db).drain(timeout=120)
        finally:
            controller.stop()
    finally:
        runtime.reset()
    with db.session() as s:
        assert s.get(Message, msg_id).state == "sent" and s.scalar(select(FlowJob)).state == "done"
    assert len(inbox.messages) == 1


def test_a_job_that_keeps_failing_is_given_up_and_the_admins_are_told(config, db, world, monkeypatch):
    from grants import clock
    from grants.engine import runner as runner_module
    from grants.services import jobs

    def broken(name, parameters, api_url=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runner_module, "run_flow", broken)
    with db.session() as s:
        job_id = jobs.enqueue(s, "decision_letters", "decision_letters:9", case_ids=[1]).id
    runner = JobRunner(db)
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        runner.drain(timeout=30)
        with db.session() as s:
            job = s.get(FlowJob, job_id)
            assert job.attempts == attempt
            if attempt < jobs.MAX_ATTEMPTS:
                assert job.state == "queued"
                later = job.not_before + timedelta(seconds=1)
        if attempt < jobs.MAX_ATTEMPTS:
            clock.set_offset(later - clock.wall())
    with db.session() as s:
        job = s.get(FlowJob, job_id)
        assert job.state == "failed" and "No space left" in job.error
        told = s.scalars(select(Message).where(Message.template == "job_failed")).all()
        assert [m.recipient for m in told] == ["admin@test.example"]
        assert "Der Speicherplatz ist voll." in told[0].body
        assert s.scalar(select(FlowJob).where(FlowJob.flow == "deliver_message")) is not None


def test_background_flows_wait_while_a_person_waits_for_another(db):
    from grants.services import jobs

    with db.session() as s:
        jobs.enqueue(s, "send_receipt", "r1", case_id=1)
        jobs.enqueue(s, "screening", "s1", case_id=1)
    runner = JobRunner(db, workers=2)
    started = []
    runner.pool.submit = lambda fn, job_id: started.append(job_id)   # record instead of running
    assert runner.run_pending() == 1
    with db.session() as s:
        states = dict(s.execute(select(FlowJob.flow, FlowJob.state)).all())
    assert states == {"screening": "running", "send_receipt": "queued"}
    assert runner.run_pending() == 0                 # the screening still runs: the receipt waits
    with db.session() as s:
        s.scalar(select(FlowJob).where(FlowJob.flow == "screening")).state = "done"
    assert runner.run_pending() == 1
