"""Holding a session in the web: the chair runs it, members vote on their own devices, a
conflicted member is excluded and sees it; other roles are denied."""

from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from grants import clock
from grants.models import AgendaItem, Application, Letter, Sitting
from tests.flows.test_session_flow import _committee, _ready_case
from tests.web.helpers import csrf, login


@pytest.mark.parametrize("who", ["applicant_a", "staff", "finance", "admin"])
def test_others_may_not_enter(client, world, db, who):
    login(client, f"{who}@test.example")
    assert client.get("/koordinierungsstab/").status_code == 403


def test_chair_runs_a_session_members_vote(app, world, db):
    _, users, members = _committee(db, world)
    case_id = _ready_case(db, world, "Sprachcafé", "1000.00")
    chair = app.test_client()
    login(chair, "chair@test.example")
    page = chair.get("/koordinierungsstab/").get_data(as_text=True)
    r = chair.post("/koordinierungsstab/sitzungen", data={"csrf_token": csrf(page), "day": (clock.today() + timedelta(days=2)).isoformat(),
                                                          "at": "14:00", "place": "Rathaus, Raum 201"})
    sid = int(r.headers["Location"].rsplit("/", 1)[1])
    url = f"/koordinierungsstab/sitzung/{sid}"
    token = csrf(chair.get(url).get_data(as_text=True))
    chair.post(f"{url}/tagesordnung", data={"csrf_token": token})
    with db.session() as s:
        item_id = s.scalar(select(AgendaItem.id).where(AgendaItem.session_id == sid))
    # a member declares a conflict before the session
    m2 = app.test_client()
    login(m2, "m2@test.example")
    t2 = csrf(m2.get(url).get_data(as_text=True))
    assert m2.post(f"{url}/eroeffnen", data={"csrf_token": t2}).status_code == 403        # not the chair
    m2.post(f"{url}/punkt/{item_id}/befangenheit", data={"csrf_token": t2, "reason": "Vorstand des Vereins"})
    assert "wegen Befangenheit ausgeschlossen" in m2.get(url).get_data(as_text=True)
    chair.post(f"{url}/eroeffnen", data={"csrf_token": token})
    chair.post(f"{url}/anwesenheit", data={"csrf_token": token, "present": [members[k] for k in ("chair", "m1", "m2", "m3")]})
    html = chair.get(url).get_data(as_text=True)
    assert "Beschlussfähig: 4 von 5" in html
    chair.post(f"{url}/punkt/{item_id}/antrag", data={"csrf_token": token, "motion": "approve"})
    # members vote on their own devices; the conflicted one is refused
    m1 = app.test_client()
    login(m1, "m1@test.example")
    t1 = csrf(m1.get(url).get_data(as_text=True))
    m1.post(f"{url}/punkt/{item_id}/stimme", data={"csrf_token": t1, "choice": "yes"})
    r = m2.post(f"{url}/punkt/{item_id}/stimme", data={"csrf_token": t2, "choice": "yes"}, follow_redirects=True)
    assert "Befangenheit" in r.get_data(as_text=True)
    chair.post(f"{url}/punkt/{item_id}/stimme", data={"csrf_token": token, "choice": "yes"})
    chair.post(f"{url}/punkt/{item_id}/stimme", data={"csrf_token": token, "choice": "no", "member_id": members["m3"]})
    assert "Ja 2, Nein 1" in chair.get(url).get_data(as_text=True)
    chair.post(f"{url}/punkt/{item_id}/auszaehlen", data={"csrf_token": token})
    chair.post(f"{url}/schliessen", data={"csrf_token": token})
    with db.session() as s:
        assert s.get(Sitting, sid).state == "closed"
        assert s.scalar(select(AgendaItem.outcome).where(AgendaItem.id == item_id)) == "approve"
        assert s.get(Application, case_id).state == "on_agenda"       # the decision flow moves it next
    # only the chair and the minute-taker sign; a refused or repeated signature makes no new minutes
    sign = f"{url}/niederschrift/unterschreiben"
    for _ in range(2):
        r = m2.post(sign, data={"csrf_token": t2}, follow_redirects=True)
        assert "unterschreiben der Vorsitz und die Schriftführung" in r.get_data(as_text=True)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Letter).where(Letter.kind == "minutes")) == 0
    for _ in range(2):
        chair.post(sign, data={"csrf_token": token})
    with db.session() as s:
        assert s.scalars(select(Letter.version).where(Letter.kind == "minutes")).all() == [1]


def test_written_procedure_in_the_web(app, world, db):
    _, users, members = _committee(db, world)
    case_id = _ready_case(db, world, "Eilig", "700.00")
    chair = app.test_client()
    login(chair, "chair@test.example")
    page = chair.get("/koordinierungsstab/").get_data(as_text=True)
    assert "Eilig" in page
    r = chair.post("/koordinierungsstab/umlaufverfahren", data={
        "csrf_token": csrf(page), "case": [case_id], "deadline": (clock.today() + timedelta(days=3)).isoformat()})
    url = r.headers["Location"]
    with db.session() as s:
        item_id = s.scalar(select(AgendaItem.id).where(AgendaItem.application_id == case_id))
    m3 = app.test_client()
    login(m3, "m3@test.example")
    html = m3.get(url).get_data(as_text=True)
    assert "Dem Umlaufverfahren widersprechen" in html and 'value="yes"' in html
    sid = url.rsplit("/", 1)[1]
    vote = f"/koordinierungsstab/sitzung/{sid}/punkt/{item_id}/schriftlich"
    m3.post(vote, data={"csrf_token": csrf(html), "choice": "yes"})
    # an advisory member has no vote, but may object (§ 90 VwVfG: "wenn kein Mitglied widerspricht")

    from grants.models import Committee, CommitteeMember, Vote
    from grants.services import accounts
    from grants.services.actor import Actor
    from grants.services.committee import circulation

    with db.session() as s:
        u = accounts.create_user(s, Actor.system("test"), "berater@test.example", "committee", "Geheim-Passwort-123")
        s.add(CommitteeMember(committee_id=s.scalar(select(Committee.id)), user_id=u.id, voting=False))
    adviser = app.test_client()
    login(adviser, "berater@test.example", "Geheim-Passwort-123")
    html = adviser.get(url).get_data(as_text=True)
    assert "Als beratendes Mitglied stimmen Sie nicht ab" in html and 'value="yes"' not in html
    r = adviser.post(vote, data={"csrf_token": csrf(html), "choice": "yes"}, follow_redirects=True)
    assert "Beratende Mitglieder haben kein Stimmrecht" in r.get_data(as_text=True)
    adviser.post(vote, data={"csrf_token": csrf(html), "choice": "object"})
    with db.session() as s:
        assert sorted(s.scalars(select(Vote.choice).where(Vote.agenda_item_id == item_id))) == ["object", "yes"]
        circulation.evaluate_circulations(s, clock.now())
        assert s.get(AgendaItem, item_id).outcome == "defer"


def test_recommendation_reaches_the_printed_dossier(app, world, db):
    import io

    from pypdf import PdfReader

    from grants.services import screening
    from tests.flows.test_screening_flow import _ready_org, _submit

    _committee(db, world)
    _ready_org(db, world)
    case_id = _submit(db, world, title="Nachbarschaftscafé")
    with db.session() as s:
        screening.screen_case(s, case_id)
    staff = app.test_client()
    login(staff, "staff@test.example")
    page = staff.get(f"/fachdienst/antrag/{case_id}").get_data(as_text=True)
    staff.post(f"/fachdienst/antrag/{case_id}/entscheidung", data={
        "csrf_token": csrf(page), "action": "mark_ready", "proposed": "800,00", "reason": "Honorar etwas hoch."})
    chair = app.test_client()
    login(chair, "chair@test.example")
    page = chair.get("/koordinierungsstab/").get_data(as_text=True)
    r = chair.post("/koordinierungsstab/sitzungen", data={"csrf_token": csrf(page), "day": (clock.today() + timedelta(days=2)).isoformat(), "at": "14:00"})
    url = r.headers["Location"]
    chair.post(f"{url}/tagesordnung", data={"csrf_token": csrf(chair.get(url).get_data(as_text=True))})
    member = app.test_client()
    login(member, "m3@test.example")
    from grants.services import dossier

    real, wrote = dossier.render_pdf, []

    def render_while_someone_writes(data):
        # an autosave while the PDF is made: it would wait for the write lock if the page held one
        with db.session() as s:
            s.get(Application, case_id).title = "Nachbarschaftscafé"
        wrote.append(True)
        return real(data)

    dossier.render_pdf = render_while_someone_writes
    try:
        pdf = member.get(f"{url}/unterlagen.pdf")
    finally:
        dossier.render_pdf = real
    assert wrote and pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "TOP 1: Nachbarschaftscafé" in text and "Vorschlag des Fachdienstes: 800,00 €" in text
    assert "Honorar etwas hoch." in text


def test_admin_manages_members_and_rules(app, world, db):
    from grants.models import Committee, CommitteeMember

    admin = app.test_client()
    login(admin, "admin@test.example")
    page = admin.get("/admin/").get_data(as_text=True)
    committee_user = world.users["committee"]
    admin.post("/admin/koordinierungsstab/mitglied", data={"csrf_token": csrf(page), "user_id": committee_user,
                                                           "function": "deputy", "voting": "y", "active": "y"})
    admin.post("/admin/koordinierungsstab/mitglied", data={"csrf_token": csrf(page), "user_id": world.users["staff"],
                                                           "function": "member", "voting": "y", "active": "y"})
    admin.post("/admin/koordinierungsstab/regeln", data={"csrf_token": csrf(page), "quorum_minimum": "4",
                                                         "interval_days": "14", "cutoff_days": "3", "chair_decides_tie": "y"})
    with db.session() as s:
        m = s.scalar(select(CommitteeMember).where(CommitteeMember.user_id == committee_user))
        assert (m.function, m.voting) == ("deputy", True)
        assert s.scalar(select(CommitteeMember).where(CommitteeMember.user_id == world.users["staff"])) is None
        c = s.scalar(select(Committee))
        assert (c.quorum_minimum, c.cutoff_days, c.chair_decides_tie) == (4, 3, True)
    chair = app.test_client()
    login(chair, "chair@test.example")
    page = chair.get("/koordinierungsstab/").get_data(as_text=True)
    assert chair.post("/admin/koordinierungsstab/regeln", data={"csrf_token": csrf(page), "quorum_minimum": "1"}).status_code == 403


def test_chair_records_a_conflict_for_a_member_and_quorum_is_live(app, world, db):
    from grants.models import ConflictOfInterest
    from grants.services.committee import sessions
    from tests.factories import actor_for

    _, users, members = _committee(db, world)
    _ready_case(db, world, "Sprachcafé", "1000.00")
    chair_actor = actor_for(db, users["chair"])

    with db.session() as s:
        m = sessions.plan_session(s, chair_actor, 1, clock.now() + timedelta(days=1))
        item = sessions.build_agenda(s, m.id)[0]
        sessions.invite(s, m.id, "http://x")
        sid, item_id = m.id, item.id
    chair = app.test_client()
    login(chair, "chair@test.example")
    url = f"/koordinierungsstab/sitzung/{sid}"
    token = csrf(chair.get(url).get_data(as_text=True))
    chair.post(f"{url}/punkt/{item_id}/befangenheit", data={"csrf_token": token, "member_id": members["m4"],
                                                             "reason": "Verwandt mit dem Vorstand"})
    with db.session() as s:
        c = s.scalar(select(ConflictOfInterest))
        assert (c.member_id, c.reason) == (members["m4"], "Verwandt mit dem Vorstand")
    # a member cannot record a conflict for someone else
    m1 = app.test_client()
    login(m1, "m1@test.example")
    t1 = csrf(m1.get(url).get_data(as_text=True))
    m1.post(f"{url}/punkt/{item_id}/befangenheit", data={"csrf_token": t1, "member_id": members["m3"], "reason": "x"})
    with db.session() as s:
        assert s.scalar(select(ConflictOfInterest).where(ConflictOfInterest.member_id == members["m3"])) is None
    live = chair.get(f"{url}/live").get_json()
    assert live["reached"] is False and "Nicht beschlussfähig: 0 von 5" in live["text"]
    svc_token = csrf(chair.get(url).get_data(as_text=True))
    chair.post(f"{url}/eroeffnen", data={"csrf_token": svc_token})
    chair.post(f"{url}/anwesenheit", data={"csrf_token": svc_token, "present": [members[k] for k in ("chair", "m1", "m2")]})
    assert chair.get(f"{url}/live").get_json()["reached"] is True


def test_a_sitting_at_half_past_ten_is_half_past_ten_on_the_page_and_in_the_invitation(app, world, db):
    """Times are planned, stored and shown on Berlin's clock: UTC only in the database."""
    from grants.models import Message, Sitting
    from grants.services.committee import sessions

    _committee(db, world)
    chair = app.test_client()
    login(chair, "chair@test.example")
    page = chair.get("/koordinierungsstab/").get_data(as_text=True)
    day = clock.today() + timedelta(days=3)
    r = chair.post("/koordinierungsstab/sitzungen", data={"csrf_token": csrf(page), "day": day.isoformat(), "at": "10:30"})
    sid = int(r.headers["Location"].rsplit("/", 1)[1])
    with db.session() as s:
        m = s.get(Sitting, sid)
        assert m.starts_at == clock.at(day, time(10, 30)) and clock.local(m.starts_at).strftime("%H:%M") == "10:30"
        sessions.invite(s, sid, "http://test")
    assert "10:30" in chair.get(f"/koordinierungsstab/sitzung/{sid}").get_data(as_text=True)
    with db.session() as s:
        body = s.scalars(select(Message.body).where(Message.template == "session_invitation")).first()
    assert f"{day:%d.%m.%Y} um 10:30 Uhr" in body
