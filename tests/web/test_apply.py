"""An association applies: over two visits, with mistakes corrected, nothing lost, then submits;
another organisation cannot see or touch the case."""

import io
import re
from datetime import timedelta

from sqlalchemy import select

from grants import clock
from grants.models import Application, Attachment, AuditEvent
from tests.web.helpers import csrf, login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _start(client):
    page = client.get("/antrag/").get_data(as_text=True)
    r = client.post("/antrag/neu", data={"csrf_token": csrf(page)})
    assert r.status_code == 302
    return int(re.search(r"/antrag/(\d+)/schritt/projekt", r.headers["Location"]).group(1))


def _post_step(client, case_id, step, data, action="next"):
    url = f"/antrag/{case_id}/schritt/{step}"
    token = csrf(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "action": action, **data})


def test_apply_over_two_visits_with_mistakes_then_submit(app, world, db):
    client = app.test_client()
    login(client, "applicant_a@test.example")
    case_id = _start(client)
    # visit 1: the project, with a count that is not a number
    r = _post_step(client, case_id, "projekt", {
        "title": "Sprachcafé <script>alert(1)</script>", "quarter": "Schinkel", "description": "Wir treffen uns.",
        "aims": "Gemeinsam kochen.", "target_groups": "Familien", "participants_expected": "zwanzig", "partners": ""})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Erwartete Teilnehmende (Anzahl): Bitte geben Sie eine ganze Zahl an" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    # the second visit: a new login, everything typed is still there, also the wrong number
    client = app.test_client()
    login(client, "applicant_a@test.example")
    html = client.get(f"/antrag/{case_id}/schritt/projekt").get_data(as_text=True)
    assert 'value="zwanzig"' in html and "Wir treffen uns." in html
    assert _post_step(client, case_id, "projekt", {
        "title": "Sprachcafé", "quarter": "Schinkel", "description": "Wir treffen uns.", "aims": "Gemeinsam kochen.",
        "target_groups": "Familien", "participants_expected": "20"}).status_code == 302
    start = clock.today() + timedelta(days=40)
    assert _post_step(client, case_id, "zeitraum", {"project_start": start.isoformat(),
                                                   "project_end": (start + timedelta(days=30)).strftime("%d.%m.%Y")}).status_code == 302
    # money: "1e5" and "-500" refused, German formats taken
    bad = _post_step(client, case_id, "finanzen", {
        "cost_items-0-name": "Honorar", "cost_items-0-amount": "1e5", "own_funds": "-500", "requested": "1.200,00"})
    assert bad.status_code == 400
    assert "Bitte geben Sie einen Betrag wie 1.250,00 an" in bad.get_data(as_text=True)
    ok = _post_step(client, case_id, "finanzen", {
        "cost_items-0-name": "Honorar", "cost_items-0-amount": "1.000,00",
        "cost_items-1-name": "Material", "cost_items-1-amount": "300,50",
        "own_funds": "100,50", "requested": "1.200,00"})
    assert ok.status_code == 302
    # a wrong file type, then a PDF
    url = f"/antrag/{case_id}/schritt/anlagen"
    token = csrf(client.get(url).get_data(as_text=True))
    client.post(f"/antrag/{case_id}/anlagen", data={"csrf_token": token, "up-kind": "quote",
                                                    "up-file": (io.BytesIO(b"MZ\x90\x00evil"), "angebot.pdf")},
                content_type="multipart/form-data")
    assert "kein PDF, JPEG oder PNG" in client.get(url).get_data(as_text=True)
    client.post(f"/antrag/{case_id}/anlagen", data={"csrf_token": token, "up-kind": "quote",
                                                    "up-file": (io.BytesIO(PDF), "../../Angebot Saal.pdf")},
                content_type="multipart/form-data")
    with db.session() as s:
        atts = s.scalars(select(Attachment)).all()
        assert [(a.filename, a.content_type) for a in atts] == [("Angebot Saal.pdf", "application/pdf")]
    # the preview lists what is missing: the declarations
    html = client.get(f"/antrag/{case_id}/vorschau").get_data(as_text=True)
    assert "Das fehlt noch" in html and "Das Projekt hat noch nicht begonnen." in html
    assert _post_step(client, case_id, "erklaerungen", {"decl_not_started": "y", "decl_other_funders": "y",
                                                        "decl_privacy": "y"}).status_code == 302
    html = client.get(f"/antrag/{case_id}/vorschau").get_data(as_text=True)
    assert "Das fehlt noch" not in html and "1.200,00" in html
    r = client.post(f"/antrag/{case_id}/vorschau", data={"csrf_token": csrf(html), "confirm": "y"})
    assert r.status_code == 302
    with db.session() as s:
        case = s.get(Application, case_id)
        assert case.state == "submitted" and re.fullmatch(r"DQD-\d{4}-\d{4}", case.file_number)
        assert [(c.description, str(c.amount)) for c in case.cost_items] == [("Honorar", "1000.00"), ("Material", "300.50")]
        assert case.participants_expected == 20 and "_raw" not in case.answers
    page = client.get(f"/antrag/{case_id}").get_data(as_text=True)
    assert "Eingegangen" in page and case.file_number in page
    # editing after submission is refused
    assert client.get(f"/antrag/{case_id}/schritt/projekt").status_code == 409


def test_financing_plan_must_balance(app, world, db):
    client = app.test_client()
    login(client, "applicant_a@test.example")
    case_id = _start(client)
    _post_step(client, case_id, "finanzen", {"cost_items-0-name": "Honorar", "cost_items-0-amount": "1000,00",
                                             "own_funds": "0", "requested": "999,99"})
    html = client.get(f"/antrag/{case_id}/vorschau").get_data(as_text=True)
    assert "Der Finanzierungsplan geht nicht auf" in html


def test_other_organisations_cases_are_invisible(app, world, db):
    a = app.test_client()
    login(a, "applicant_a@test.example")
    case_id = _start(a)
    b = app.test_client()
    login(b, "applicant_b@test.example")
    for path in (f"/antrag/{case_id}", f"/antrag/{case_id}/schritt/projekt", f"/antrag/{case_id}/vorschau"):
        assert b.get(path).status_code == 404
    page = b.get("/antrag/").get_data(as_text=True)
    r = b.post(f"/antrag/{case_id}/zurueckziehen", data={"csrf_token": csrf(page), "sure": "y"})
    assert r.status_code == 404
    with db.session() as s:
        assert s.get(Application, case_id).state == "draft"


def test_withdraw_needs_confirmation_and_is_audited(app, world, db):
    client = app.test_client()
    login(client, "applicant_a@test.example")
    case_id = _start(client)
    page = client.get(f"/antrag/{case_id}").get_data(as_text=True)
    client.post(f"/antrag/{case_id}/zurueckziehen", data={"csrf_token": csrf(page)})
    with db.session() as s:
        assert s.get(Application, case_id).state == "draft"
    client.post(f"/antrag/{case_id}/zurueckziehen", data={"csrf_token": csrf(page), "sure": "y"})
    with db.session() as s:
        assert s.get(Application, case_id).state == "withdrawn"
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "withdraw")) is not None


def test_autosave_answers_json_and_keeps_input(app, world, db):
    client = app.test_client()
    login(client, "applicant_a@test.example")
    case_id = _start(client)
    url = f"/antrag/{case_id}/schritt/projekt"
    token = csrf(client.get(url).get_data(as_text=True))
    r = client.post(url, data={"csrf_token": token, "title": "Halb fertig", "participants_expected": "viele"},
                    headers={"X-Autosave": "1"})
    assert r.get_json()["saved"] is True and r.get_json()["invalid"] == ["participants_expected"]
    with db.session() as s:
        case = s.get(Application, case_id)
        assert case.title == "Halb fertig" and case.answers["_raw"]["participants_expected"] == "viele"


def test_oversized_and_disguised_uploads_are_refused_and_nothing_is_kept(app, world, db, config):
    from grants.domain.files import MAX_BYTES

    client = app.test_client()
    login(client, "applicant_a@test.example")
    case_id = _start(client)
    url = f"/antrag/{case_id}/schritt/anlagen"
    token = csrf(client.get(url).get_data(as_text=True))
    big = b"%PDF-1.4\n" + b"0" * (MAX_BYTES + 10)
    client.post(f"/antrag/{case_id}/anlagen", data={"csrf_token": token, "up-kind": "quote",
                                                    "up-file": (io.BytesIO(big), "riesig.pdf")},
                content_type="multipart/form-data")
    assert "Die Datei ist zu groß" in client.get(url).get_data(as_text=True)
    client.post(f"/antrag/{case_id}/anlagen", data={"csrf_token": token, "up-kind": "quote",
                                                    "up-file": (io.BytesIO(b"<html><script>x</script>"), "bild.png")},
                content_type="multipart/form-data")
    with db.session() as s:
        assert s.scalar(select(Attachment.id)) is None
    assert not any(p.is_file() for p in config.uploads_dir.rglob("*"))
    # a whole request beyond the limit gets a German page, not a 500
    huge = client.post(f"/antrag/{case_id}/anlagen", data={"csrf_token": token, "up-file": (io.BytesIO(b"0" * (21 * 2**20)), "x.pdf")},
                       content_type="multipart/form-data")
    assert huge.status_code == 413 and "Die Datei ist zu groß" in huge.get_data(as_text=True)
