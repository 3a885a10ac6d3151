"""Retention: drafts never submitted go after 12 months (configurable), finished cases are
anonymised after 10 full years, keeping the figures; files are removed with them."""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

from sqlalchemy import func, select

from grants.models import Application, Attachment, AuditEvent, Comment, CostItem, LedgerEntry, Program
from grants.services import applications, cases, retention, uploads
from grants.services.actor import Actor
from tests.factories import actor_for

TODAY = date(2037, 3, 1)


def _draft(db, world, tmp_path, updated: date) -> int:
    applicant = actor_for(db, world.users["applicant_a"])
    with db.session() as s:
        case = applications.create_draft(s, applicant, s.get(Program, world.program_id), world.org_ids["a"],
                                          title="Entwurf", requested=D("800.00"),
                                          cost_items=[("Material", D("800.00"))])
        uploads.store(s, applicant, tmp_path / "uploads", organisation_id=case.organisation_id, application_id=case.id,
                      kind="flyer", filename="flyer.pdf", stream=io.BytesIO(b"%PDF-1.4\n" + b"x" * 50))
        s.flush()
        s.execute(Application.__table__.update().where(Application.id == case.id)
                  .values(updated_at=datetime.combine(updated, datetime.min.time(), tzinfo=UTC)))
        return case.id


def _closed(db, world, ended: date) -> int:
    applicant = actor_for(db, world.users["applicant_a"])
    system = Actor.system("test")
    with db.session() as s:
        case = applications.create_draft(s, applicant, s.get(Program, world.program_id), world.org_ids["a"],
                                          title="Fest mit Familie Yılmaz", description="Frau Yılmaz lädt ein.",
                                          requested=D("1200.00"), cost_items=[("Honorar Herr Meier", D("1200.00"))])
        applications.submit(s, applicant, case)
        for a in ("start_screening", "mark_ready", "put_on_agenda", "approve", "send_letter", "pay",
                  "request_report", "submit_report"):
            cases.transition(s, case, a, system if a != "submit_report" else applicant)
        case.granted = D("1200.00")
        s.add(LedgerEntry(fund_id=world.fund_id, kind="commitment", amount=D("1200.00"), booked_on=ended,
                          application_id=case.id, purpose="Bewilligung", donor="Frau Yılmaz"))
        s.add(Comment(application_id=case.id, body="Herr Meier rief an.", visible_to_applicant=False))
        cases.transition(s, case, "close", actor_for_staff(db, world, s), reason="Belege von Herrn Meier geprüft")
        case.closed_at = case.state_changed_at = datetime.combine(ended, datetime.min.time(), tzinfo=UTC)
        return case.id


def actor_for_staff(db, world, s):
    return Actor(world.users["staff"], world.email("staff"), "staff")


def test_old_drafts_are_deleted_with_their_files_newer_ones_stay(db, world, tmp_path):
    old = _draft(db, world, tmp_path, TODAY - timedelta(days=400))
    new = _draft(db, world, tmp_path, TODAY - timedelta(days=200))
    with db.session() as s:
        result = retention.run(s, tmp_path / "uploads", tmp_path, TODAY)
    assert result["drafts_deleted"] == 1 and len(result["files"]) == 1
    with db.session() as s:
        assert s.get(Application, old) is None and s.get(Application, new) is not None
        assert s.scalar(select(func.count()).select_from(Attachment)) == 1
        assert s.scalar(select(func.count()).select_from(CostItem).where(CostItem.application_id == old)) == 0
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "draft_deleted")) is not None
    with db.session() as s:                   # the next day: nothing more to do
        assert retention.run(s, tmp_path / "uploads", tmp_path, TODAY)["drafts_deleted"] == 0


def test_a_program_may_keep_drafts_longer(db, world, tmp_path):
    old = _draft(db, world, tmp_path, TODAY - timedelta(days=400))
    with db.session() as s:
        s.get(Program, world.program_id).rules = {"draft_retention_months": 24}
    with db.session() as s:
        retention.run(s, tmp_path / "uploads", tmp_path, TODAY)
    with db.session() as s:
        assert s.get(Application, old) is not None


def test_closed_cases_are_anonymised_after_ten_full_years_keeping_the_figures(db, world, tmp_path):
    old = _closed(db, world, date(2026, 6, 30))      # kept through 2036, anonymised from 1 Jan 2037
    young = _closed(db, world, date(2027, 1, 15))
    with db.session() as s:
        result = retention.run(s, tmp_path / "uploads", tmp_path, TODAY)
    assert result["anonymised"] == 1
    with db.session() as s:
        case = s.get(Application, old)
        assert case.title == "anonymisiert" and case.description == "" and case.anonymised_at is not None
        assert (case.granted, case.requested, case.quarter, case.state) == (D("1200.00"), D("1200.00"), case.quarter, "closed")
        assert [c.description for c in case.cost_items] == ["Position 1"] and case.cost_items[0].amount == D("1200.00")
        assert s.scalar(select(func.count()).select_from(Comment).where(Comment.application_id == old)) == 0
        texts = " ".join(e.reason + str(e.data) for e in s.scalars(select(AuditEvent).where(AuditEvent.application_id == old)))
        assert "Meier" not in texts and "Yılmaz" not in texts
        entry = s.scalar(select(LedgerEntry).where(LedgerEntry.application_id == old))
        assert entry.amount == D("1200.00") and entry.donor == ""
        assert s.get(Application, young).title.startswith("Fest")
    assert retention.anonymise_after(date(2026, 12, 31), 10) == date(2037, 1, 1)
