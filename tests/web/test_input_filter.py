"""One filter for every text that comes in: control characters refused with a message that names
them, before anything is written; the same letters stored the same way (NFC)."""

import io

from sqlalchemy import select

from grants.models import Application, Attachment
from tests.web.helpers import csrf, login
from tests.web.test_apply import PDF, _post_step, _start


def test_a_control_character_in_a_field_is_refused_and_nothing_is_saved(app, world, db):
    client = app.test_client()
    login(client, "applicant_a@test.example")
    case_id = _start(client)
    _post_step(client, case_id, "projekt", {"title": "Sprachcafé"}, action="save")
    r = _post_step(client, case_id, "projekt", {"title": "Sprach\x01café"}, action="save")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "U+0001" in page and "„title“" in page and "gespeichert wurde nichts" in page
    r = client.post(f"/antrag/{case_id}/schritt/projekt", headers={"X-Autosave": "1", "Accept": "application/json"},
                    data={"csrf_token": csrf(client.get(f"/antrag/{case_id}/schritt/projekt").get_data(as_text=True)),
                          "title": "Auto\u202esave"})
    assert r.status_code == 422 and "U+202E" in r.get_json()["error"]
    with db.session() as s:
        assert s.get(Application, case_id).title == "Sprachcafé"
    en = _post_step(client, case_id, "projekt", {"title": "x\x1by", "lang": "en"}, action="save")
    assert en.status_code == 422


def test_text_is_stored_composed(app, world, db):
    client = app.test_client()
    login(client, "applicant_a@test.example")
    case_id = _start(client)
    _post_step(client, case_id, "projekt", {"title": "Begegnung in Mu\u0308nster\r\nund Schinkel"}, action="save")
    with db.session() as s:
        assert s.get(Application, case_id).title.startswith("Begegnung in Münster")


def test_a_control_character_in_a_query_or_a_file_name_is_refused(app, world, db, config):
    client = app.test_client()
    login(client, "staff@test.example")
    r = client.get("/sachbearbeitung/?page=1%01")
    assert r.status_code == 422 and "U+0001" in r.get_data(as_text=True)
    login(client, "applicant_a@test.example")
    case_id = _start(client)
    token = csrf(client.get(f"/antrag/{case_id}/schritt/anlagen").get_data(as_text=True))
    r = client.post(f"/antrag/{case_id}/anlagen", data={"csrf_token": token, "up-kind": "quote",
                                                        "up-file": (io.BytesIO(PDF), "angebot\x07.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "Name der Datei" in r.get_data(as_text=True)
    with db.session() as s:
        assert s.scalar(select(Attachment.id)) is None


def test_an_id_too_large_for_the_database_is_a_page_that_does_not_exist(app, world, db):
    client = app.test_client()
    for who, path in [("finance", "/finanzen/auszahlungen/zahllauf/99999999999999999999/sepa-datei"),
                      ("staff", "/fachdienst/antrag/99999999999999999999"),
                      ("chair", "/koordinierungsstab/sitzung/2147483648")]:
        login(client, f"{who}@test.example")
        assert client.get(path).status_code == 404, path


def test_a_number_too_large_for_the_database_in_a_form_is_refused_not_a_crash(app, world, db):
    client = app.test_client()
    login(client, "finance@test.example")
    page = client.get("/finanzen/offene-posten").get_data(as_text=True)
    r = client.post("/finanzen/offene-posten", data={"csrf_token": csrf(page), "entry_id": "99999999999999999999",
                                                     "kind": "donation"})
    assert r.status_code in (302, 400, 404)
    page = client.get("/finanzen/spenden").get_data(as_text=True)
    r = client.post("/finanzen/spenden", data={"csrf_token": csrf(page), "entry_id": "99999999999999999999",
                                               "kind": "other", "reason": "x", "request_key": "f" * 32})
    assert r.status_code in (302, 400, 404)
