"""Admins see failed background jobs in words and start them again; nobody else may."""

import pytest
from sqlalchemy import select

from grants.models import AuditEvent, FlowJob
from grants.services import jobs
from tests.web.helpers import csrf, login


def _failed(db):
    with db.session() as s:
        job = jobs.enqueue(s, "deliver_message", "deliver_message:77", message_id=77)
        job.state, job.attempts = "failed", 5
        job.error = "SMTPServerDisconnected: Connection unexpectedly closed"
        return job.id


def test_an_admin_sees_a_failed_job_in_words_and_starts_it_again(client, world, db):
    job_id = _failed(db)
    login(client, "admin@test.example")
    page = client.get("/admin/").get_data(as_text=True)
    assert "E-Mail zustellen" in page and "Der Mailserver war nicht erreichbar" in page
    assert "SMTPServerDisconnected" in page                       # the technical message, folded away
    english = client.get("/admin/?lang=en").get_data(as_text=True)
    assert "The mail server could not be reached" in english
    r = client.post(f"/admin/auftraege/{job_id}/wiederholen", data={"csrf_token": csrf(page)})
    assert r.status_code == 302
    with db.session() as s:
        job = s.get(FlowJob, job_id)
        assert (job.state, job.attempts, job.error) == ("queued", 0, "")
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.action == "job_retried")) == "job_retried"
    r = client.post(f"/admin/auftraege/{job_id}/wiederholen", data={"csrf_token": csrf(page)}, follow_redirects=True)
    assert "This job has not failed" in r.get_data(as_text=True)    # a second click changes nothing


@pytest.mark.parametrize("who", ["applicant_a", "staff", "finance", "chair"])
def test_only_admins_start_jobs_again(client, world, db, who):
    job_id = _failed(db)
    login(client, f"{who}@test.example")
    token = csrf(client.get("/", follow_redirects=True).get_data(as_text=True))
    assert client.post(f"/admin/auftraege/{job_id}/wiederholen", data={"csrf_token": token}).status_code == 403
    with db.session() as s:
        assert s.get(FlowJob, job_id).state == "failed"


def test_every_flow_has_words_on_the_admin_page():
    from grants.flows.registry import FLOWS
    from grants.web.labels import JOB_FLOW_LABELS

    assert set(FLOWS) <= set(JOB_FLOW_LABELS)
