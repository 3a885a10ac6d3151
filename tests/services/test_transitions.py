"""The one transition service: permission, organisation, audit, concurrency."""

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from grants.models import Application, AuditEvent, Program
from grants.services import applications, cases
from grants.services.actor import Actor
from grants.services.errors import Conflict, Forbidden, NotFound
from tests.factories import actor_for


def _draft(db, world, org="a"):
    applicant = actor_for(db, world.users[f"applicant_{org}"])
    with db.session() as s:
        program = s.get(Program, world.program_id)
        case = applications.create_draft(s, applicant, program, world.org_ids[org], title="Sprachcafé",
                                         requested=Decimal("1200.00"))
        return case.id, applicant


def test_submit_gives_a_file_number_and_leaves_an_audit_event(db, world):
    case_id, applicant = _draft(db, world)
    with db.session() as s:
        case = s.get(Application, case_id)
        applications.submit(s, applicant, case)
    with db.session() as s:
        case = s.get(Application, case_id)
        assert case.state == "submitted"
        assert case.file_number.startswith("DQD-") and case.file_number.endswith("-0001")
        events = s.scalars(select(AuditEvent).where(AuditEvent.application_id == case_id,
                                                    AuditEvent.action == "submit")).all()
        assert [(e.from_state, e.to_state, e.actor) for e in events] == [("draft", "submitted", "applicant_a@test.example")]


def test_file_numbers_run_on(db, world):
    numbers = []
    for _ in range(3):
        case_id, applicant = _draft(db, world)
        with db.session() as s:
            numbers.append(applications.submit(s, applicant, s.get(Application, case_id)).file_number)
    assert [n[-4:] for n in numbers] == ["0001", "0002", "0003"]


def test_applicant_of_another_organisation_cannot_touch_the_case(db, world):
    case_id, _ = _draft(db, world, "a")
    other = actor_for(db, world.users["applicant_b"])
    with db.session() as s:
        with pytest.raises(NotFound):
            cases.get_case(s, other, case_id)
        with pytest.raises(Forbidden):
            cases.transition(s, s.get(Application, case_id), "submit", other)


def test_wrong_role_and_wrong_state_are_refused_and_nothing_is_written(db, world):
    case_id, _ = _draft(db, world)
    finance = actor_for(db, world.users["finance"])
    staff = actor_for(db, world.users["staff"])
    with db.session() as s:
        case = s.get(Application, case_id)
        with pytest.raises(Conflict):
            cases.transition(s, case, "pay", finance)           # wrong state
        with pytest.raises(Forbidden):
            cases.transition(s, case, "submit", staff)          # staff do not submit for applicants
    with db.session() as s:
        assert s.get(Application, case_id).state == "draft"
        assert s.scalar(select(AuditEvent).where(AuditEvent.action.in_(["pay", "submit"]))) is None


def test_a_reason_is_required_where_the_law_wants_one(db, world):
    case_id, applicant = _draft(db, world)
    staff = actor_for(db, world.users["staff"])
    with db.session() as s:
        case = s.get(Application, case_id)
        applications.submit(s, applicant, case)
        cases.transition(s, case, "start_screening", Actor.system("test"))
        with pytest.raises(Conflict, match="Begründung"):
            cases.transition(s, case, "declare_ineligible", staff, reason=" ")
        cases.transition(s, case, "declare_ineligible", staff, reason="Baukosten sind nicht förderfähig")
        assert case.state == "ineligible"


def test_two_people_changing_the_same_case_cannot_overwrite_each_other(db, world):
    case_id, applicant = _draft(db, world)
    s1, s2 = db.sessionmaker(), db.sessionmaker()
    try:
        c2 = s2.get(Application, case_id)   # the second person opened the case ...
        s2.commit()                         # ... (a page load: its transaction ends)
        c1 = s1.get(Application, case_id)
        cases.transition(s1, c1, "submit", applicant)
        s1.commit()                         # the first one submitted meanwhile
        c2.title = "changed meanwhile"
        with pytest.raises(StaleDataError):
            s2.flush()
    finally:
        s1.close()
        s2.rollback()
        s2.close()
    with db.session() as s:
        case = s.get(Application, case_id)
        assert (case.state, case.title) == ("submitted", "Sprachcafé")


def test_history_lists_every_state_change(db, world):
    case_id, applicant = _draft(db, world)
    with db.session() as s:
        case = s.get(Application, case_id)
        applications.submit(s, applicant, case)
        cases.transition(s, case, "withdraw", applicant)
    with db.session() as s:
        assert [(e.from_state, e.to_state) for e in cases.history(s, case_id)] == [
            (None, "draft"), ("draft", "submitted"), ("submitted", "withdrawn")]
