"""A whole session: agenda, invitations, attendance, a recusal, motions and votes (with a tie),
closing, and the decision flow (funds committed, cases moved, applicants told), safe to re-run."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from grants import clock, runtime
from grants.engine.runner import JobRunner
from grants.models import (
    AgendaItem,
    Application,
    Committee,
    CommitteeMember,
    Decision,
    LedgerEntry,
    Message,
    Program,
    Sitting,
    User,
)
from grants.services import accounts, applications, cases, ledger
from grants.services.actor import Actor
from grants.services.committee import circulation, decisions, sessions, voting
from grants.services.errors import Conflict, Forbidden
from tests.factories import PASSWORD, actor_for

SYSTEM = Actor.system("test")


def _committee(db, world):
    """Chair + four voting members + one advisory member."""
    with db.session() as s:
        c = s.scalar(select(Committee))
        chair = s.scalar(select(User).where(User.email == "chair@test.example"))
        s.add(CommitteeMember(committee_id=c.id, user_id=chair.id, function="chair"))
        ids = {"chair": chair.id}
        for i in range(1, 5):
            u = accounts.create_user(s, SYSTEM, f"m{i}@test.example", "committee", PASSWORD)
            s.add(CommitteeMember(committee_id=c.id, user_id=u.id, function="minute_taker" if i == 1 else "member"))
            ids[f"m{i}"] = u.id
        staff = s.scalar(select(User).where(User.email == "staff@test.example"))
        s.add(CommitteeMember(committee_id=c.id, user_id=staff.id, voting=False))
        s.flush()
        members = {k: s.scalar(select(CommitteeMember.id).where(CommitteeMember.user_id == v)) for k, v in ids.items()}
        return c.id, ids, members


def _ready_case(db, world, title, amount):
    applicant = actor_for(db, world.users["applicant_a"])
    with db.session() as s:
        case = applications.create_draft(s, applicant, s.get(Program, world.program_id), world.org_ids["a"],
                                          title=title, requested=D(amount))
        applications.submit(s, applicant, case)
        for action in ("start_screening", "mark_ready"):
            cases.transition(s, case, action, SYSTEM)
        return case.id


def test_a_whole_session(prefect_harness, config, db, world):
    committee_id, users, members = _committee(db, world)
    a, b, c = (_ready_case(db, world, "Sprachcafé", "1000.00"), _ready_case(db, world, "Bandprojekt", "2000.00"),
               _ready_case(db, world, "Reise", "1500.00"))
    chair = actor_for(db, users["chair"])
    with db.session() as s:
        m = sessions.plan_session(s, chair, committee_id, clock.now() + timedelta(days=3))
        items = sessions.build_agenda(s, m.id)
        assert [i.application_id for i in items] == [a, b, c]
        assert sessions.invite(s, m.id, "http://x") == 6
        session_id = m.id
        item_ids = [i.id for i in items]
    with db.session() as s:
        assert {s.get(Application, x).state for x in (a, b, c)} == {"on_agenda"}
        assert s.scalar(select(func.count()).select_from(Message).where(Message.template == "session_invitation")) == 6
    # before the session: member 2 declares a conflict on the first item (works for the applicant)
    m2, m1 = actor_for(db, users["m2"]), actor_for(db, users["m1"])
    with db.session() as s:
        voting.declare_conflict(s, m2, item_ids[0], members["m2"], "Ich bin im Vorstand des Vereins.")
    with db.session() as s:
        sessions.open_session(s, chair, session_id)
        for k in ("chair", "m1", "m2", "m3"):
            sessions.set_attendance(s, chair, session_id, members[k], True)
        assert sessions.quorum_of(s, session_id).reached            # 4 of 5 voting present, 3 needed
        voting.set_motion(s, chair, item_ids[0], "approve")
    with db.session() as s:
        with pytest.raises(Forbidden, match="Befangenheit"):
            voting.cast_vote(s, m2, item_ids[0], members["m2"], "yes")
    with db.session() as s:
        voting.cast_vote(s, chair, item_ids[0], members["chair"], "yes")
        voting.cast_vote(s, m1, item_ids[0], members["m1"], "yes")
        voting.cast_vote(s, chair, item_ids[0], members["m3"], "no")          # entered by the chair
        assert voting.conclude_item(s, chair, item_ids[0]).outcome == "approve"
        voting.set_motion(s, chair, item_ids[1], "approve_partly", amount=D("1200.00"), reasons="Honorare halbiert.")
        for k in ("chair", "m1", "m2", "m3"):
            voting.cast_vote(s, chair, item_ids[1], members[k], "yes")
        assert voting.conclude_item(s, chair, item_ids[1]).outcome == "approve_partly"
        voting.set_motion(s, chair, item_ids[2], "reject", reasons="Kein Bezug zum Quartier.")
        for k, v in (("chair", "yes"), ("m1", "yes"), ("m2", "no"), ("m3", "no")):
            voting.cast_vote(s, chair, item_ids[2], members[k], v)
        assert voting.conclude_item(s, chair, item_ids[2]).outcome is None    # a tie fails
        sessions.close_session(s, chair, session_id)                            # the open item is deferred
    runtime.install(config, db)
    try:
        runner = JobRunner(db)
        runner.drain(timeout=180)
        with db.session() as s:      # the decision flow again: nothing twice
            from grants.models import FlowJob
            s.scalar(select(FlowJob).where(FlowJob.flow == "decide_session")).state = "queued"
        runner.drain(timeout=180)
    finally:
        runtime.reset()
    with db.session() as s:
        states = {x: s.get(Application, x).state for x in (a, b, c)}
        # decisions recorded, then the decision letters went out (letter flow)
        assert states == {a: "letter_sent", b: "letter_sent", c: "deferred"}
        decisions = {d.application_id: (d.kind, d.amount, d.votes_yes, d.votes_no) for d in s.scalars(select(Decision))}
        assert decisions == {a: ("approve", D("1000.00"), 2, 1), b: ("approve_partly", D("1200.00"), 4, 0),
                             c: ("defer", None, 0, 0)}
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "commitment")) == 2
        assert ledger.balances(s, world.fund_id).committed == D("2200.00")
        assert s.scalar(select(func.count()).select_from(Message).where(Message.template == "decision_notice")) == 3


def test_no_decision_without_quorum_and_no_overdraft(db, world):
    committee_id, users, members = _committee(db, world)
    _ready_case(db, world, "Groß", "5000.00")
    chair = actor_for(db, users["chair"])
    with db.session() as s:
        # the fund has 10,000: commit 6,000 elsewhere so that 5,000 no longer fits
        s.add(LedgerEntry(fund_id=world.fund_id, kind="commitment", amount=D("6000.00"),
                          booked_on=clock.today()))
        m = sessions.plan_session(s, chair, committee_id, clock.now() + timedelta(days=1))
        item = sessions.build_agenda(s, m.id)[0]
        sessions.invite(s, m.id, "http://x")
        sessions.open_session(s, chair, m.id)
        for k in ("chair", "m1"):
            sessions.set_attendance(s, chair, m.id, members[k], True)
        with pytest.raises(Conflict, match="verfügbar sind 4000.00 €"):
            voting.set_motion(s, chair, item.id, "approve")
        voting.set_motion(s, chair, item.id, "approve_partly", amount=D("4000.00"), reasons="Soviel ist da.")
        voting.cast_vote(s, chair, item.id, members["chair"], "yes")
        with pytest.raises(Conflict, match="nicht beschlussfähig"):
            voting.conclude_item(s, chair, item.id)


def test_minutes_signed_and_read_back(db, world, config):
    import io

    import docx
    from pypdf import PdfReader

    from grants.services import minutes

    committee_id, users, members = _committee(db, world)
    # stored before the input filter existed: the minutes are written all the same, without them
    _ready_case(db, world, "Sprach\x01café", "1000.00")
    chair, m1, m2 = actor_for(db, users["chair"]), actor_for(db, users["m1"]), actor_for(db, users["m2"])
    with db.session() as s:
        m = sessions.plan_session(s, chair, committee_id, clock.now() + timedelta(days=1),
                                   place="Rathaus, Raum 201")
        item = sessions.build_agenda(s, m.id)[0]
        sessions.invite(s, m.id, "http://x")
        voting.declare_conflict(s, m2, item.id, members["m2"], "Vorstand des\u202e Vereins")
        sessions.open_session(s, chair, m.id)
        for k in ("chair", "m1", "m2", "m3"):
            sessions.set_attendance(s, chair, m.id, members[k], True)
        voting.set_motion(s, chair, item.id, "approve")
        for k in ("chair", "m1", "m3"):
            voting.cast_vote(s, chair, item.id, members[k], "yes")
        voting.conclude_item(s, chair, item.id)
        sessions.close_session(s, chair, m.id)
        session_id = m.id
    with db.session() as s:
        with pytest.raises(Forbidden):
            minutes.sign(s, m2, session_id)              # neither chair nor minute-taker
        minutes.sign(s, chair, session_id)
        minutes.sign(s, m1, session_id)
        data = minutes.context(s, session_id)
    pdf, docx_bytes = minutes.render_minutes(data)
    pdf_text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    d = docx.Document(io.BytesIO(docx_bytes))
    docx_text = " ".join((" ".join(p.text for p in d.paragraphs) + " " + " ".join(
        c.text for t in d.tables for r in t.rows for c in r.cells)).split())
    for text in (pdf_text, docx_text):
        assert "Niederschrift über die 1. Sitzung des Koordinierungsstabs Integration (§ 93 VwVfG)" in text
        assert "Rathaus, Raum 201" in text and "m4" in text                      # place, the absent member
        assert "TOP 1: Sprachcafé" in text and "3 Ja, 0 Nein, 0 Enthaltungen – angenommen" in text
        assert "m2 war befangen (Vorstand des Vereins)" in text
        assert "Beschluss: bewilligt" in text
        assert "Vorsitz: chair, elektronisch unterschrieben" in text and "Schriftführung: m1" in text


def test_written_procedure(db, world):
    from grants.services import schedule

    committee_id, users, members = _committee(db, world)
    a = _ready_case(db, world, "Dringend A", "800.00")
    b = _ready_case(db, world, "Dringend B", "900.00")
    c = _ready_case(db, world, "Dringend C", "700.00")
    actors = {k: actor_for(db, users[k]) for k in ("chair", "m1", "m2", "m3", "m4")}
    deadline = clock.now() + timedelta(days=3)
    with db.session() as s:
        m = circulation.start_circulation(s, actors["chair"], committee_id, [a, b, c], deadline)
        items = {i.application_id: i.id for i in s.scalars(select(AgendaItem).where(AgendaItem.session_id == m.id))}
        sid = m.id
    with db.session() as s:
        for k in ("chair", "m1", "m2", "m3", "m4"):
            circulation.cast_written_vote(s, actors[k], items[a], "yes")
            circulation.cast_written_vote(s, actors[k], items[c], "yes")
        circulation.cast_written_vote(s, actors["chair"], items[b], "yes")
        circulation.cast_written_vote(s, actors["m1"], items[b], "object")          # one objection ends it
    staff = actor_for(db, world.users["staff"])          # an advisory member: no vote
    with db.session() as s:
        with pytest.raises(Forbidden, match="kein Stimmrecht"):
            circulation.cast_written_vote(s, staff, items[a], "yes")
    with db.session() as s:      # ... but, a member, may object: all voted yes on C, and still it goes to a session
        circulation.cast_written_vote(s, staff, items[c], "object")
    with db.session() as s:
        assert f"decide_session:{sid}" in schedule.tick(s, clock.now())
        item_a, item_b = s.get(AgendaItem, items[a]), s.get(AgendaItem, items[b])
        assert item_a.outcome == "approve" and item_b.outcome == "defer"
        assert s.get(AgendaItem, items[c]).outcome == "defer"
        assert "Widerspruch" in item_b.motion_reasons
        assert s.get(Sitting, sid).state == "closed"
        # the minutes record the written votes too (§ 93 VwVfG: vote counts)
        from grants.services import minutes

        counted = {i["title"]: [(x["yes"], x["no"], x["abstain"], x["result"]) for x in i["motions"]]
                   for i in minutes.context(s, sid)["items"]}
    assert counted == {"Dringend A": [(5, 0, 0, "im Umlaufverfahren angenommen")],
                       "Dringend B": [(1, 0, 0, minutes.CIRCULATION_RESULTS["ended_by_objection"])],
                       "Dringend C": [(5, 0, 0, minutes.CIRCULATION_RESULTS["ended_by_objection"])]}


def test_approvals_of_one_session_never_add_up_to_more_than_the_fund(db, world):
    """The ledger binds money only in the decision flow, after the session: until then the approvals
    already decided count against the fund, at the motion and again when the votes are counted."""
    from grants.services import dossier

    committee_id, users, members = _committee(db, world)
    a = _ready_case(db, world, "Erster", "3000.00")
    b = _ready_case(db, world, "Zweiter", "3000.00")
    chair = actor_for(db, users["chair"])
    with db.session() as s:      # of the fund's 10,000, 6,000 are bound elsewhere: 4,000 are left
        s.add(LedgerEntry(fund_id=world.fund_id, kind="commitment", amount=D("6000.00"),
                          booked_on=clock.today()))
        m = sessions.plan_session(s, chair, committee_id, clock.now() + timedelta(days=1))
        first, second = sessions.build_agenda(s, m.id)
        sessions.invite(s, m.id, "http://x")
        sessions.open_session(s, chair, m.id)
        for k in ("chair", "m1", "m2", "m3"):
            sessions.set_attendance(s, chair, m.id, members[k], True)
        voting.set_motion(s, chair, first.id, "approve")
        voting.set_motion(s, chair, second.id, "approve")      # each fits on its own
        for item in (first, second):
            for k in ("chair", "m1", "m2"):
                voting.cast_vote(s, chair, item.id, members[k], "yes")
        voting.conclude_item(s, chair, first.id)
        assert first.outcome == "approve"
        [_, view] = dossier.items(s, m.id)
        assert view.fund_after == D("-2000.00")              # the page shows what approving it would leave
        session_id, second_id = m.id, second.id
    with db.session() as s, pytest.raises(Conflict, match="verfügbar sind 1000.00 €"):
        voting.conclude_item(s, chair, second_id)          # 3,000 of the 4,000 are approved already
    with db.session() as s:
        assert s.get(AgendaItem, second_id).outcome is None
        with pytest.raises(Conflict, match="verfügbar sind 1000.00 €"):
            voting.set_motion(s, chair, second_id, "approve")
        voting.set_motion(s, chair, second_id, "approve_partly", amount=D("1000.00"), reasons="Mehr ist nicht da.")
        for k in ("chair", "m1", "m2"):
            voting.cast_vote(s, chair, second_id, members[k], "yes")
        voting.conclude_item(s, chair, second_id)
        sessions.close_session(s, chair, session_id)
    with db.session() as s:
        decisions.record_decisions(s, session_id)
        assert ledger.balances(s, world.fund_id).available == D("0.00")
        assert [(d.application_id, d.kind, d.amount) for d in s.scalars(select(Decision).order_by(Decision.id))] == [
            (a, "approve", D("3000.00")), (b, "approve_partly", D("1000.00"))]


def test_a_written_procedure_does_not_approve_past_the_fund(db, world):
    from grants.services import schedule

    committee_id, users, members = _committee(db, world)
    a = _ready_case(db, world, "Eilig A", "3000.00")
    b = _ready_case(db, world, "Eilig B", "3000.00")
    actors = {k: actor_for(db, users[k]) for k in ("chair", "m1", "m2", "m3", "m4")}
    with db.session() as s:
        s.add(LedgerEntry(fund_id=world.fund_id, kind="commitment", amount=D("6000.00"),
                          booked_on=clock.today()))
        m = circulation.start_circulation(s, actors["chair"], committee_id, [a, b],
                                        clock.now() + timedelta(days=3))
        items = {i.application_id: i.id for i in s.scalars(select(AgendaItem).where(AgendaItem.session_id == m.id))}
    with db.session() as s:
        for k in actors:
            for case_id in (a, b):
                circulation.cast_written_vote(s, actors[k], items[case_id], "yes")
    with db.session() as s:
        schedule.tick(s, clock.now())
        assert s.get(AgendaItem, items[a]).outcome == "approve"
        item_b = s.get(AgendaItem, items[b])
        assert item_b.outcome == "defer" and "Fonds reicht" in item_b.motion_reasons


def test_a_case_withdrawn_after_its_vote_gets_no_decision_money_or_letter(db, world):
    """An application can be withdrawn until it is decided (the Bescheid needs it): the vote stays
    in the minutes, but nothing is bound, no Bescheid is written, the applicant gets no approval."""
    from grants.models import FlowJob
    from grants.services import minutes

    committee_id, users, members = _committee(db, world)
    gone = _ready_case(db, world, "Zurückgezogen", "2800.00")
    kept = _ready_case(db, world, "Bleibt", "1000.00")
    chair = actor_for(db, users["chair"])
    applicant = actor_for(db, world.users["applicant_a"])
    with db.session() as s:
        m = sessions.plan_session(s, chair, committee_id, clock.now() + timedelta(days=1))
        items = sessions.build_agenda(s, m.id)
        sessions.invite(s, m.id, "http://x")
        sessions.open_session(s, chair, m.id)
        for k in ("chair", "m1", "m2", "m3"):
            sessions.set_attendance(s, chair, m.id, members[k], True)
        for item in items:
            voting.set_motion(s, chair, item.id, "approve")
            for k in ("chair", "m1", "m2"):
                voting.cast_vote(s, chair, item.id, members[k], "yes")
            voting.conclude_item(s, chair, item.id)
        session_id = m.id
    with db.session() as s:
        cases.transition(s, s.get(Application, gone), "withdraw", applicant)
        # what the withdrawn approval held is free again before the decision flow runs
        assert voting.approved_not_committed(s, world.fund_id) == D("1000.00")
    with db.session() as s:
        sessions.close_session(s, chair, session_id)
    with db.session() as s:
        decisions.record_decisions(s, session_id)
    with db.session() as s:
        kinds = {d.application_id: d.kind for d in s.scalars(select(Decision))}
        assert kinds == {gone: "withdrawn", kept: "approve"}
        assert s.get(Application, gone).state == "withdrawn" and s.get(Application, gone).granted is None
        assert s.scalars(select(LedgerEntry.application_id).where(LedgerEntry.kind == "commitment")).all() == [kept]
        assert ledger.balances(s, world.fund_id).available == D("9000.00")
        job = s.scalar(select(FlowJob).where(FlowJob.flow == "decision_letters"))
        assert job.parameters["case_ids"] == [kept]
        told = s.scalars(select(Message.subject).where(Message.application_id == gone)).all()
        assert not any("bewilligt" in subject for subject in told)
        [first, _] = minutes.context(s, session_id)["items"]
        assert "nicht vollzogen" in first["outcome"]
    with db.session() as s:                               # the flow runs again: nothing changes
        decisions.record_decisions(s, session_id)
        assert s.scalar(select(func.count()).select_from(Decision)) == 2


def test_a_correction_cannot_take_away_money_the_committee_has_voted(db, world):
    from grants.services import fund as fund_service

    committee_id, users, members = _committee(db, world)
    _ready_case(db, world, "Großes Fest", "5000.00")
    chair = actor_for(db, users["chair"])
    finance = actor_for(db, world.users["finance"])
    with db.session() as s:
        m = sessions.plan_session(s, chair, committee_id, clock.now() + timedelta(days=1))
        [item] = sessions.build_agenda(s, m.id)
        sessions.invite(s, m.id, "http://x")
        sessions.open_session(s, chair, m.id)
        for k in ("chair", "m1", "m2"):
            sessions.set_attendance(s, chair, m.id, members[k], True)
        voting.set_motion(s, chair, item.id, "approve")
        for k in ("chair", "m1", "m2"):
            voting.cast_vote(s, chair, item.id, members[k], "yes")
        voting.conclude_item(s, chair, item.id)
    with db.session() as s:
        donation_id = s.scalar(select(LedgerEntry.id).where(LedgerEntry.kind == "donation"))   # the fund's 10,000
    with pytest.raises(Conflict, match="schon entschieden"), db.session() as s:
        fund_service.reclassify_donation(s, finance, donation_id, "other", reason="Irrtum")
    with db.session() as s:
        assert ledger.balances(s, world.fund_id).available == D("10000.00")
