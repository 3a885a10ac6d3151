"""The screening flow on real submissions: each outcome, safe to run twice, a crash changes nothing."""

from datetime import timedelta
from decimal import Decimal as D

from sqlalchemy import func, select

from grants import clock, runtime
from grants.engine.runner import JobRunner
from grants.models import (
    Application,
    AuditEvent,
    Comment,
    FlowJob,
    Message,
    NonProfitProof,
    Organisation,
    Program,
    ProofKind,
    ScreeningVerdict,
    Signatory,
)
from grants.services import applications, cases
from tests.factories import actor_for


def _ready_org(db, world):
    with db.session() as s:
        org = s.get(Organisation, world.org_ids["a"])
        org.register_court, org.register_number = "Amtsgericht Osnabrück", "VR 1"
        s.add(Signatory(organisation_id=org.id, name="Aylin Demir", function="Vorsitzende"))
        s.add(NonProfitProof(organisation_id=org.id, kind=ProofKind.EXEMPTION_NOTICE,
                             issued_on=clock.today() - timedelta(days=300), tax_office="FA", tax_number="1"))


def _submit(db, world, *, own="100.00", requested="1000.00", costs="1100.00", title="Sprachcafé"):
    applicant = actor_for(db, world.users["applicant_a"])
    start = clock.today() + timedelta(days=40)
    with db.session() as s:
        case = applications.create_draft(
            s, applicant, s.get(Program, world.program_id), world.org_ids["a"], title=title, quarter="Schinkel",
            requested=D(requested), own_funds=D(own), cost_items=[("Honorar", D(costs))], project_start=start,
            project_end=start + timedelta(days=30),
            answers={"decl_not_started": True, "decl_other_funders": True, "decl_privacy": True})
        applications.submit(s, applicant, case)
        return case.id


def _drain(config, db):
    runtime.install(config, db)
    try:
        JobRunner(db).drain(timeout=180)
    finally:
        runtime.reset()


def _verdicts(db, case_id):
    with db.session() as s:
        return {v.rule: v.result for v in s.scalars(select(ScreeningVerdict).where(ScreeningVerdict.application_id == case_id))}


def test_complete_case_waits_for_staff_and_a_rerun_changes_nothing(prefect_harness, config, db, world):
    _ready_org(db, world)
    case_id = _submit(db, world)
    _drain(config, db)
    v = _verdicts(db, case_id)
    assert v["amount_bounds"] == v["financing_plan"] == v["non_profit_proof"] == v["project_dates"] == "pass"
    assert v["purpose"] == "warn"
    with db.session() as s:
        assert s.get(Application, case_id).state == "screening"
        events = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.application_id == case_id))
        job = s.scalar(select(FlowJob).where(FlowJob.flow == "screening"))
        job.state = "queued"
    _drain(config, db)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ScreeningVerdict)) == len(v)
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.application_id == case_id)) == events


def test_missing_things_go_back_to_the_applicant_with_a_list(prefect_harness, config, db, world):
    case_id = _submit(db, world, own="0.00")      # plan off by 100, no register data, no proof
    _drain(config, db)
    with db.session() as s:
        case = s.get(Application, case_id)
        assert case.state == "needs_info"
        note = s.scalar(select(Comment.body).where(Comment.application_id == case_id))
        assert "Finanzierungsplan geht nicht auf" in note and "Registergericht" in note
        mails = s.scalars(select(Message).where(Message.template == "needs_info")).all()
        assert len(mails) == 1 and "Finanzierungsplan" in mails[0].body
    # the applicant answers; screening runs again, with a new run
    _ready_org(db, world)
    applicant = actor_for(db, world.users["applicant_a"])
    with db.session() as s:
        case = s.get(Application, case_id)
        case.own_funds = D("100.00")
        cases.transition(s, case, "resubmit", applicant)
    _drain(config, db)
    with db.session() as s:
        assert s.get(Application, case_id).state == "screening"
        runs = set(s.scalars(select(ScreeningVerdict.run_key).where(ScreeningVerdict.application_id == case_id)))
        assert len(runs) == 2
        assert len(s.scalars(select(Message).where(Message.template == "needs_info")).all()) == 1


def test_not_eligible_is_only_proposed_staff_decide(prefect_harness, config, db, world):
    _ready_org(db, world)
    case_id = _submit(db, world, requested="5000.01", costs="5100.01")
    _drain(config, db)
    with db.session() as s:
        assert s.get(Application, case_id).state == "screening"       # never rejected automatically
        done = s.scalar(select(AuditEvent).where(AuditEvent.action == "screening_done"))
        assert done.data["outcome"] == "propose_reject"


def test_all_pass_goes_to_the_committee_when_configured(prefect_harness, config, db, world):
    _ready_org(db, world)
    with db.session() as s:
        s.get(Program, world.program_id).rules = {"staff_confirmation": False, "purpose_judgement": False}
    case_id = _submit(db, world)
    _drain(config, db)
    with db.session() as s:
        assert s.get(Application, case_id).state == "ready_for_committee"


def test_a_crash_leaves_the_case_where_it_was(prefect_harness, config, db, world, monkeypatch):
    from grants.flows import screening as flow_module
    from grants.services import screening

    monkeypatch.setattr(flow_module.screen, "retry_delay_seconds", 0)
    monkeypatch.setattr(screening, "gather", lambda *a: (_ for _ in ()).throw(RuntimeError("database went away")))
    case_id = _submit(db, world)
    _drain(config, db)
    with db.session() as s:
        assert s.get(Application, case_id).state == "submitted"
        assert s.scalar(select(ScreeningVerdict.id)) is None
        job = s.scalar(select(FlowJob).where(FlowJob.flow == "screening"))
        assert (job.state, job.attempts) == ("queued", 1) and job.not_before > clock.now()   # tried again later


def test_screening_knows_the_next_session_the_case_can_reach(db, world):
    """A session planned after the project's start: the dates rule asks staff to look."""

    from grants.models import Committee, Sitting
    from grants.services import screening

    _ready_org(db, world)
    case_id = _submit(db, world)                       # starts in 40 days
    with db.session() as s:
        committee_id = s.scalar(select(Committee.id))
        now = clock.now()
        s.add(Sitting(committee_id=committee_id, number=7, starts_at=now + timedelta(days=60),
                      cutoff_at=now + timedelta(days=55)))
        s.add(Sitting(committee_id=committee_id, number=6, starts_at=now + timedelta(days=3),   # agenda closed
                      cutoff_at=now - timedelta(hours=1)))
    with db.session() as s:
        facts, rules = screening.gather(s, s.get(Application, case_id))
        assert facts.next_decision_on == clock.local_date(now + timedelta(days=60))
        verdict = screening.rules_.project_dates(facts, rules)
        assert verdict.result == "warn" and "erst nach der Entscheidung" in verdict.reason
