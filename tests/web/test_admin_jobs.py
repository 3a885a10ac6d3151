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


def test_the_admin_sets_from_which_amount_a_booking_by_hand_needs_four_eyes(client, world, db):
    from decimal import Decimal

    from grants import clock
    from grants.models import Fund
    from grants.services import manual_bookings
    from tests.factories import actor_for

    login(client, "finance@test.example")
    token = csrf(client.get("/finanzen/").get_data(as_text=True))
    assert client.post("/admin/fonds/vier-augen", data={"csrf_token": token, "four_eyes_from": "0"}).status_code == 403
    login(client, "admin@test.example")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'value="1.000,00"' in page
    for bad in ("-5", "abc", "2.000.000,00"):
        client.post("/admin/fonds/vier-augen", data={"csrf_token": csrf(page), "four_eyes_from": bad})
        with db.session() as s:
            assert s.get(Fund, world.fund_id).four_eyes_from == Decimal("1000.00")
    client.post("/admin/fonds/vier-augen", data={"csrf_token": csrf(page), "four_eyes_from": "250,00"})
    with db.session() as s:
        assert s.get(Fund, world.fund_id).four_eyes_from == Decimal("250.00")
        assert s.scalar(select(AuditEvent.data).where(AuditEvent.action == "four_eyes_threshold_set")) == {
            "from": "1000.00", "to": "250.00"}
    finance = actor_for(db, world.users["finance"])
    with db.session() as s:
        booking = manual_bookings.propose_donation(s, finance, world.fund_id, "z" * 32, donor="Basar",
                                                   booked_on=clock.today(), amount=Decimal("300.00"))
        assert booking.state == "pending"
