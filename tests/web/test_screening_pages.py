"""Staff screening pages: override with reason (audited), messages, decisions; other roles denied."""

import pytest
from sqlalchemy import select

from grants.models import Application, AuditEvent, Comment, Message, ScreeningVerdict
from grants.services import screening
from tests.flows.test_screening_flow import _ready_org, _submit
from tests.web.helpers import csrf, login


def _screened(db, world):
    _ready_org(db, world)
    case_id = _submit(db, world)
    with db.session() as s:
        screening.screen_case(s, case_id)      # the flow's work, without Prefect
    return case_id


@pytest.mark.parametrize("who", ["applicant_a", "committee", "chair", "finance", "admin"])
def test_only_staff_see_the_screening(client, world, db, who):
    case_id = _screened(db, world)
    login(client, f"{who}@test.example")
    assert client.get("/fachdienst/pruefung").status_code == 403
    assert client.get(f"/fachdienst/antrag/{case_id}").status_code == 403


def test_override_needs_a_reason_and_is_audited(client, world, db):
    case_id = _screened(db, world)
    login(client, "staff@test.example")
    page = client.get(f"/fachdienst/antrag/{case_id}").get_data(as_text=True)
    assert "Förderzweck" in page and "Bitte beurteilen" in page
    with db.session() as s:
        purpose = s.scalar(select(ScreeningVerdict).where(ScreeningVerdict.rule == "purpose"))
    client.post(f"/fachdienst/antrag/{case_id}/pruefergebnis", data={"csrf_token": csrf(page), "verdict_id": purpose.id,
                                                                      "result": "pass", "reason": ""})
    with db.session() as s:
        assert s.get(ScreeningVerdict, purpose.id).overridden_result is None
    client.post(f"/fachdienst/antrag/{case_id}/pruefergebnis", data={
        "csrf_token": csrf(page), "verdict_id": purpose.id, "result": "pass",
        "reason": "Gemeinsames Kochen im Quartier: passt zum Förderzweck."})
    with db.session() as s:
        v = s.get(ScreeningVerdict, purpose.id)
        assert (v.result, v.overridden_result) == ("warn", "pass")
        ev = s.scalar(select(AuditEvent).where(AuditEvent.action == "verdict_overridden"))
        assert ev.actor == "staff@test.example" and ev.data == {"rule": "purpose", "from": "warn", "to": "pass"}
    assert "geändert, vorher:" in client.get(f"/fachdienst/antrag/{case_id}").get_data(as_text=True)


def test_verdict_of_another_case_cannot_be_changed_through_this_one(client, world, db):
    a = _screened(db, world)
    b = _submit(db, world, title="Zweites Projekt")
    with db.session() as s:
        screening.screen_case(s, b)
        other = s.scalar(select(ScreeningVerdict).where(ScreeningVerdict.application_id == b))
    login(client, "staff@test.example")
    page = client.get(f"/fachdienst/antrag/{a}").get_data(as_text=True)
    r = client.post(f"/fachdienst/antrag/{a}/pruefergebnis", data={"csrf_token": csrf(page), "verdict_id": other.id,
                                                                    "result": "fail", "reason": "x"})
    assert r.status_code == 404
    with db.session() as s:
        assert s.get(ScreeningVerdict, other.id).overridden_result is None


def test_staff_decisions(client, world, db):
    case_id = _screened(db, world)
    login(client, "staff@test.example")
    page = client.get(f"/fachdienst/antrag/{case_id}").get_data(as_text=True)
    r = client.post(f"/fachdienst/antrag/{case_id}/entscheidung", data={"csrf_token": csrf(page), "action": "declare_ineligible", "reason": ""})
    assert r.status_code == 302 and "Begründung" in client.get(r.headers["Location"]).get_data(as_text=True)
    with db.session() as s:
        assert s.get(Application, case_id).state == "screening"      # a reason is required
    client.post(f"/fachdienst/antrag/{case_id}/entscheidung", data={
        "csrf_token": csrf(page), "action": "request_info", "reason": "Bitte schicken Sie ein Angebot für den Saal."})
    with db.session() as s:
        assert s.get(Application, case_id).state == "needs_info"
        assert s.scalar(select(Comment.body).where(Comment.visible_to_applicant.is_(True))) == "Bitte schicken Sie ein Angebot für den Saal."
        assert s.scalar(select(Message).where(Message.template == "staff_message")) is not None
    # the applicant sees the message on the case page
    applicant = client.application.test_client()
    login(applicant, "applicant_a@test.example")
    assert "Bitte schicken Sie ein Angebot für den Saal." in applicant.get(f"/antrag/{case_id}").get_data(as_text=True)


def test_internal_notes_stay_internal(client, world, db):
    case_id = _screened(db, world)
    login(client, "staff@test.example")
    page = client.get(f"/fachdienst/antrag/{case_id}").get_data(as_text=True)
    client.post(f"/fachdienst/antrag/{case_id}/nachricht", data={"csrf_token": csrf(page), "body": "Vorstand kenne ich privat."})
    applicant = client.application.test_client()
    login(applicant, "applicant_a@test.example")
    assert "Vorstand kenne ich privat." not in applicant.get(f"/antrag/{case_id}").get_data(as_text=True)


def test_held_letter_released_by_staff_only(app, world, db, config):
    from grants.documents import decision_letter
    from grants.models import Letter
    from grants.services import letters
    from tests.flows.test_letters import _decided

    case_id, _ = _decided(db, world, "approve", "1500.00")
    with db.session() as s:
        kind, data = letters.context(s, case_id)
    pdf, docx_bytes = decision_letter.render_letter(kind, data)
    with db.session() as s:
        letter_id = letters.store(s, config.home, case_id, kind, pdf, docx_bytes, hold=True).id
    finance = app.test_client()
    login(finance, "finance@test.example")
    page = finance.get("/finanzen/").get_data(as_text=True)
    assert finance.post(f"/fachdienst/antrag/{case_id}/schreiben/{letter_id}/freigeben",
                        data={"csrf_token": csrf(page)}).status_code == 403
    staff = app.test_client()
    login(staff, "staff@test.example")
    html = staff.get(f"/fachdienst/antrag/{case_id}").get_data(as_text=True)
    assert "zur Prüfung zurückgehalten" in html
    assert staff.get(f"/fachdienst/antrag/{case_id}/schreiben/{letter_id}.docx").data[:2] == b"PK"
    staff.post(f"/fachdienst/antrag/{case_id}/schreiben/{letter_id}/freigeben", data={"csrf_token": csrf(html)})
    with db.session() as s:
        assert s.get(Letter, letter_id).state == "dispatched"
        assert s.get(Application, case_id).state == "letter_sent"
    applicant = app.test_client()
    login(applicant, "applicant_a@test.example")
    page = applicant.get(f"/antrag/{case_id}").get_data(as_text=True)
    assert "Zuwendungsbescheid" in page
    assert applicant.get(f"/antrag/{case_id}/schreiben/{letter_id}.pdf").data[:4] == b"%PDF"


def test_every_template_previews_with_demo_data(client, world):
    import io

    from pypdf import PdfReader

    from grants.documents.demo_data import TEMPLATES

    login(client, "staff@test.example")
    assert client.get("/fachdienst/vorlagen").status_code == 200
    for name in TEMPLATES:
        r = client.get(f"/fachdienst/vorlagen/{name[:-5]}.pdf")
        assert r.status_code == 200 and r.data[:4] == b"%PDF", name
        text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages).split())
        assert "Widerspruch" not in text
    assert client.get("/fachdienst/vorlagen/../../etc/passwd.pdf").status_code == 404
    assert client.get("/fachdienst/vorlagen/nothere.pdf").status_code == 404


def test_the_case_page_speaks_the_staff_s_language(client, world, db):
    """Amounts to edit as the locale writes them, the system's own steps named as such."""
    case_id = _screened(db, world)
    with db.session() as s:
        requested = s.get(Application, case_id).requested
    login(client, "staff@test.example")
    page = client.get(f"/fachdienst/antrag/{case_id}").get_data(as_text=True)
    german = f"{requested:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    assert f'name="proposed" inputmode="decimal" value="{german}"' in page
    assert "system:" not in page and "(automatisch)" in page
    english = client.get(f"/fachdienst/antrag/{case_id}?lang=en").get_data(as_text=True)
    assert f'value="{requested:,.2f}"' in english and "(automatic)" in english
