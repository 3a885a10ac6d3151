"""Login, front doors and the role matrix: each role sees its own door and is denied the others."""

import pytest

from grants.web.access import undeclared_routes
from tests.web.helpers import csrf, login

DOORS = {
    "applicant_a": "/antrag/",
    "staff": "/fachdienst/",
    "committee": "/koordinierungsstab/",
    "chair": "/koordinierungsstab/",
    "finance": "/finanzen/",
    "admin": "/admin/",
}
ALL_DOORS = sorted(set(DOORS.values()))


def test_every_route_declares_who_may_use_it(app):
    assert undeclared_routes(app) == []


@pytest.mark.parametrize("user", sorted(DOORS))
def test_each_role_lands_on_its_own_door_and_is_denied_the_others(client, world, user):
    resp = login(client, f"{user}@test.example")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(DOORS[user])
    assert client.get(DOORS[user]).status_code == 200
    for door in ALL_DOORS:
        if door != DOORS[user]:
            denied = client.get(door)
            assert denied.status_code == 403, (user, door)
            assert "Berechtigung" in denied.get_data(as_text=True)


@pytest.mark.parametrize("door", ALL_DOORS)
def test_anonymous_visitors_are_sent_to_the_login(client, world, door):
    resp = client.get(door)
    assert resp.status_code == 302 and "/anmelden" in resp.headers["Location"]


def test_wrong_password_is_told_in_german_without_saying_which_part(client, world):
    resp = login(client, "staff@test.example", "wrong password!!")
    assert resp.status_code == 401
    assert "E-Mail-Adresse oder Passwort stimmen nicht." in resp.get_data(as_text=True)


def test_login_is_rate_limited(client, world):
    for _ in range(5):
        login(client, "staff@test.example", "wrong password!!")
    resp = login(client, "staff@test.example")
    assert resp.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldungen" in resp.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, world):
    resp = client.post("/anmelden", data={"email": "staff@test.example", "password": "correct horse battery"})
    assert resp.status_code == 400
    assert client.get("/fachdienst/").status_code == 302  # not logged in


def test_logout_needs_post_with_token_and_ends_the_session(client, world):
    login(client, "staff@test.example")
    assert client.get("/abmelden").status_code == 405
    page = client.get("/fachdienst/").get_data(as_text=True)
    assert client.post("/abmelden", data={}).status_code == 400
    assert client.post("/abmelden", data={"csrf_token": csrf(page)}).status_code == 302
    assert client.get("/fachdienst/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, world):
    resp = login(client, "staff@test.example")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_does_not_redirect_to_other_sites(client, world):
    page = client.get("/anmelden?next=https://evil.example/")
    resp = client.post("/anmelden?next=https://evil.example/", data={
        "csrf_token": csrf(page.get_data(as_text=True)), "email": "staff@test.example",
        "password": "correct horse battery"})
    assert resp.headers["Location"].endswith("/fachdienst/")


def test_password_reset_by_mail_link(client, world, db, config):
    from sqlalchemy import select

    from grants.models import Message

    page = client.get("/passwort/vergessen").get_data(as_text=True)
    resp = client.post("/passwort/vergessen", data={"csrf_token": csrf(page), "email": "finance@test.example"})
    assert resp.status_code == 302
    with db.session() as s:
        body = s.scalar(select(Message.body).where(Message.recipient == "finance@test.example"))
    path = "/passwort/neu/" + body.split("/passwort/neu/")[1].split()[0]
    page = client.get(path).get_data(as_text=True)
    bad = client.post(path, data={"csrf_token": csrf(page), "password": "new password 123", "confirm": "different"})
    assert bad.status_code == 400 and "stimmen nicht überein" in bad.get_data(as_text=True)
    ok = client.post(path, data={"csrf_token": csrf(page), "password": "new password 123",
                                 "confirm": "new password 123"})
    assert ok.status_code == 302
    assert login(client, "finance@test.example", "new password 123").headers["Location"].endswith("/finanzen/")


def test_changed_password_ends_other_sessions(app, world, db, config):
    from grants.models import User
    from grants.services import accounts

    c1 = app.test_client()
    login(c1, "staff@test.example")
    assert c1.get("/fachdienst/").status_code == 200
    with db.session() as s:
        accounts.logout_everywhere(s, s.get(User, world.users["staff"]))
    assert c1.get("/fachdienst/").status_code == 302


def test_unknown_page_is_a_german_404(client):
    resp = client.get("/gibt-es-nicht")
    assert resp.status_code == 404 and "Diese Seite gibt es nicht." in resp.get_data(as_text=True)


def test_english_on_request_and_remembered(client, world):
    assert 'lang="de"' in client.get("/").get_data(as_text=True)
    html = client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="en"' in html and "Log in" in html
    assert 'lang="en"' in client.get("/anmelden").get_data(as_text=True)


def test_the_language_survives_login_a_stale_session_cookie_and_follows_the_user(app, world):
    client = app.test_client()
    client.get("/?lang=en")
    login(client, "applicant_a@test.example")
    assert 'lang="en"' in client.get("/antrag/").get_data(as_text=True)        # login keeps the choice
    stale = client.get_cookie("grants_session").value
    assert 'lang="en"' in client.get("/antrag/?lang=en").get_data(as_text=True)
    # a slower answer to an older request sets the session cookie it had: the language stays
    client.set_cookie("grants_session", stale)
    assert 'lang="en"' in client.get("/antrag/").get_data(as_text=True)
    # the account remembers it: on another device, after logging in, English
    other = app.test_client()
    login(other, "applicant_a@test.example")
    assert 'lang="en"' in other.get("/antrag/").get_data(as_text=True)
    other.get("/antrag/?lang=de")
    assert 'lang="de"' in other.get("/antrag/").get_data(as_text=True)
    assert 'lang="en"' in client.get("/antrag/").get_data(as_text=True)       # each browser its own


def test_healthz_reports_database(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "ok" and resp.get_json()["database"] == "ok"


def test_security_headers(client):
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_the_admin_page_names_roles_and_job_states_in_words(client, world):
    login(client, "admin@test.example")
    page = client.get("/admin/").get_data(as_text=True)
    # e-mail, name, role, active: the test accounts are named like their roles, the role is in words
    assert "<td>chair@test.example</td><td>chair</td><td>Vorsitz Koordinierungsstab</td>" in page
    assert "<td>applicant_a</td><td>Antragstellende Organisation</td>" in page and "queued" not in page


@pytest.mark.parametrize("page", ["99999999999999999999", "0", "-1", "zwei", "²", "1e3", "100001"])
@pytest.mark.parametrize("user, path", [("applicant_a", "/antrag/"), ("staff", "/fachdienst/")])
def test_a_list_page_that_cannot_exist_is_a_404_not_a_server_error(client, world, user, path, page):
    login(client, f"{user}@test.example")
    r = client.get(path, query_string={"page": page})
    assert r.status_code == 404
    assert client.get(path, query_string={"page": "2"}).status_code == 200
