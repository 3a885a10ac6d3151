"""New organisations as a new user would meet the system: register, confirm, keep the profile,
invite a colleague, download their data; an association and a parish each on their own path."""

import io
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from grants import clock
from grants.models import Message, NonProfitProof, Organisation, User
from tests.web.helpers import csrf, login
from tests.web.test_apply import _post_step, _start


def _mail_link(db, to, path):
    with db.session() as s:
        body = s.scalars(select(Message.body).where(Message.recipient == to).order_by(Message.id.desc())).first()
    return re.search(rf"https?://[^/\s]+({path}/\S+)", body).group(1)


def _register(client, db, org_name, kind, email):
    page = client.get("/registrieren").get_data(as_text=True)
    data = {"csrf_token": csrf(page), "org_name": org_name, "kind": kind, "name": "Karin Meyer", "email": email,
            "password": "ein sicheres Passwort", "confirm": "ein sicheres Passwort"}
    r = client.post("/registrieren", data=data)           # privacy notice not confirmed
    assert r.status_code == 400 and "Datenschutzhinweis" in r.get_data(as_text=True)
    assert "Ich habe den Datenschutzhinweis gelesen: Bitte bestätigen Sie" in r.get_data(as_text=True)   # no ".:"
    assert f'value="{org_name}"' in r.get_data(as_text=True)
    r = client.post("/registrieren", data={**data, "privacy": "y"})
    assert r.status_code == 200 and email in r.get_data(as_text=True)
    # before confirming, login says what to do
    r = login(client, email, "ein sicheres Passwort")
    assert "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse" in r.get_data(as_text=True)
    client.get(_mail_link(db, email, "/bestaetigen"))
    assert login(client, email, "ein sicheres Passwort").headers["Location"].endswith("/antrag/")


def _profile(client, data):
    page = client.get("/antrag/organisation/").get_data(as_text=True)
    return client.post("/antrag/organisation/profil", data={"csrf_token": csrf(page), **data})


def test_association_registers_keeps_its_profile_and_applies(app, world, db):
    client = app.test_client()
    _register(client, db, "Nachbarschaft Wüste e.V.", "association", "vorstand@wueste.example")
    r = _profile(client, {"p-street": "Lotter Straße 1", "p-postcode": "49078", "p-city": "Osnabrück",
                          "p-register_court": "Amtsgericht Osnabrück", "p-register_number": "VR 4711",
                          "p-iban": "DE89 3704 0044 0532 0130 01", "p-account_holder": "Nachbarschaft Wüste e.V."})
    assert r.status_code == 400 and "IBAN ist nicht gültig" in r.get_data(as_text=True)
    assert 'value="VR 4711"' in r.get_data(as_text=True)
    long_name = "Nachbarschaftsverein für Begegnung, Kultur und Integration in der Wüste e.V."   # 76 characters
    r = _profile(client, {"p-iban": "DE89 3704 0044 0532 0130 00", "p-account_holder": long_name})
    assert r.status_code == 400 and "Höchstens 70 Zeichen" in r.get_data(as_text=True)
    from grants.services import organisations
    from grants.services.errors import Invalid
    from tests.factories import actor_for

    with db.session() as s:
        org_id = s.scalar(select(Organisation.id).where(Organisation.name == "Nachbarschaft Wüste e.V."))
        user_id = s.scalar(select(User.id).where(User.email == "vorstand@wueste.example"))
    with db.session() as s, pytest.raises(Invalid, match="höchstens 70 Zeichen"):     # the service says so too
        organisations.update_profile(s, actor_for(db, user_id), org_id,
                                     {"iban": "DE89370400440532013000", "account_holder": long_name})
    r = _profile(client, {"p-street": "Lotter Straße 1", "p-postcode": "49078", "p-city": "Osnabrück",
                          "p-register_court": "Amtsgericht Osnabrück", "p-register_number": "VR 4711",
                          "p-iban": "de89 3704 0044 0532 0130 00", "p-account_holder": "Nachbarschaft Wüste e.V."})
    assert r.status_code == 302
    with db.session() as s:
        org = s.scalar(select(Organisation).where(Organisation.name == "Nachbarschaft Wüste e.V."))
        assert (org.iban, org.register_number) == ("DE89370400440532013000", "VR 4711")
    page = client.get("/antrag/organisation/").get_data(as_text=True)
    too_old = (clock.today() - timedelta(days=6 * 365)).isoformat()
    r = client.post("/antrag/organisation/nachweis", data={
        "csrf_token": csrf(page), "n-kind": "exemption_notice", "n-issued_on": too_old,
        "n-tax_office": "Finanzamt Osnabrück-Stadt", "n-tax_number": "66/270/12345"})
    assert r.status_code == 400 and "höchstens 5 Jahre alt" in r.get_data(as_text=True)
    r = client.post("/antrag/organisation/nachweis", data={
        "csrf_token": csrf(page), "n-kind": "exemption_notice", "n-issued_on": (clock.today() - timedelta(days=400)).isoformat(),
        "n-tax_office": "Finanzamt Osnabrück-Stadt", "n-tax_number": "66/270/12345",
        "n-document": (io.BytesIO(b"%PDF-1.4 bescheid"), "Freistellung.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 302
    with db.session() as s:
        assert s.scalar(select(NonProfitProof.tax_number)) == "66/270/12345"
    case_id = _start(client)
    assert client.get(f"/antrag/{case_id}/schritt/erklaerungen").get_data(as_text=True).count("Kirchensiegel") == 0


def test_parish_path_needs_two_signatories_and_the_seal(app, world, db):
    client = app.test_client()
    _register(client, db, "Kath. Kirchengemeinde St. Joseph", "parish", "pfarrbuero@st-joseph.example")
    page = client.get("/antrag/organisation/").get_data(as_text=True)
    assert "Registergericht" not in page and "Kirchenvorstandsbeschlusses" in page and "Gemeinnützigkeit" not in page
    r = client.post("/antrag/organisation/unterschriften", data={
        "csrf_token": csrf(page), "s-people-0-name": "Pfarrer Albers", "s-people-0-function": "Vorsitz"})
    assert r.status_code == 400 and "zwei Unterschriftsberechtigte" in r.get_data(as_text=True)
    r = client.post("/antrag/organisation/unterschriften", data={
        "csrf_token": csrf(page), "s-people-0-name": "Pfarrer Albers", "s-people-0-function": "Vorsitz",
        "s-people-1-name": "Maria Schulte", "s-people-1-function": "Mitglied des Kirchenvorstands"})
    assert r.status_code == 302
    assert _profile(client, {"p-parish_resolution_on": (clock.today() - timedelta(days=10)).isoformat(),
                             "p-seal_confirmed": "y", "p-iban": "DE75512108001245126199",
                             "p-account_holder": "Kath. Kirchengemeinde St. Joseph"}).status_code == 302
    with db.session() as s:
        org = s.scalar(select(Organisation).where(Organisation.name == "Kath. Kirchengemeinde St. Joseph"))
        assert org.seal_confirmed and [p.name for p in org.signatories] == ["Pfarrer Albers", "Maria Schulte"]
    case_id = _start(client)
    html = client.get(f"/antrag/{case_id}/schritt/erklaerungen").get_data(as_text=True)
    assert "Kirchensiegel" in html
    _post_step(client, case_id, "erklaerungen", {"decl_not_started": "y", "decl_other_funders": "y", "decl_privacy": "y"})
    assert "Kirchenvorstand beschlossen" in client.get(f"/antrag/{case_id}/vorschau").get_data(as_text=True)


def test_invite_a_colleague_who_sets_a_password(app, world, db):
    client = app.test_client()
    login(client, "applicant_a@test.example")
    page = client.get("/antrag/organisation/").get_data(as_text=True)
    assert client.post("/antrag/organisation/einladen", data={"csrf_token": csrf(page), "i-email": "kollegin@a.example"}).status_code == 302
    link = _mail_link(db, "kollegin@a.example", "/einladung")
    other = app.test_client()
    page = other.get(link).get_data(as_text=True)
    r = other.post(link, data={"csrf_token": csrf(page), "name": "Kollegin", "password": "kurz", "confirm": "kurz"})
    assert r.status_code == 400 and "mindestens 10 Zeichen" in r.get_data(as_text=True)
    assert other.post(link, data={"csrf_token": csrf(page), "name": "Kollegin", "password": "ein langes Passwort",
                                  "confirm": "ein langes Passwort"}).status_code == 302
    assert login(other, "kollegin@a.example", "ein langes Passwort").headers["Location"].endswith("/antrag/")
    with db.session() as s:
        assert s.scalar(select(User.name).where(User.email == "kollegin@a.example")) == "Kollegin"
    # used once
    page = other.get(link).get_data(as_text=True)
    assert "schon angenommen" in other.post(link, data={"csrf_token": csrf(page), "name": "X", "password": "noch ein Passwort",
                                                         "confirm": "noch ein Passwort"}).get_data(as_text=True)


def test_data_export_holds_the_organisations_data_only(app, world, db):
    a = app.test_client()
    login(a, "applicant_a@test.example")
    _start(a)
    b = app.test_client()
    login(b, "applicant_b@test.example")
    _start(b)
    r = a.get("/antrag/organisation/daten.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(r.data))
    names = zf.namelist()
    assert "organisation.json" in names and "personen.json" in names
    assert "Verein A e.V." in zf.read("organisation.json").decode()
    assert "Gemeinde B" not in "".join(zf.read(n).decode(errors="ignore") for n in names if n.endswith(".json"))
    assert "password_hash" not in zf.read("personen.json").decode()
    assert sum(1 for n in names if n.endswith("antrag.json")) == 1


def test_a_colleague_cannot_take_over_the_manager_through_the_export(app, world, db):
    """The takeover that worked: a new member asks for a reset of the manager's password and reads
    the link in the organisation's export. Now the export is for managers, and holds no key."""
    manager = app.test_client()
    login(manager, "applicant_a@test.example")
    page = manager.get("/antrag/organisation/").get_data(as_text=True)
    manager.post("/antrag/organisation/einladen", data={"csrf_token": csrf(page), "i-email": "neu@a.example"})
    link = _mail_link(db, "neu@a.example", "/einladung")
    colleague = app.test_client()
    page = colleague.get(link).get_data(as_text=True)
    colleague.post(link, data={"csrf_token": csrf(page), "name": "Neu", "password": "ein langes Passwort",
                               "confirm": "ein langes Passwort"})
    manager.post("/antrag/organisation/einladen", data={"csrf_token": csrf(page), "i-email": "noch@a.example"})
    anyone = app.test_client()
    page = anyone.get("/passwort/vergessen").get_data(as_text=True)
    anyone.post("/passwort/vergessen", data={"csrf_token": csrf(page), "email": "applicant_a@test.example"})
    reset = _mail_link(db, "applicant_a@test.example", "/passwort/neu")
    login(colleague, "neu@a.example", "ein langes Passwort")
    assert colleague.get("/antrag/organisation/daten.zip").status_code == 403
    r = manager.get("/antrag/organisation/daten.zip")
    assert r.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(r.data))
    everything = "".join(zf.read(n).decode(errors="ignore") for n in zf.namelist() if n.endswith(".json"))
    token = reset.rsplit("/", 1)[1]
    assert token not in everything and "/passwort/neu/" not in everything and "/einladung/" not in everything
    assert "password_hash" not in everything and "$argon2" not in everything


def test_parish_submits_and_screening_sees_its_own_rules(app, world, db):
    from grants.models import Application
    from grants.services import screening

    client = app.test_client()
    _register(client, db, "Ev. Kirchengemeinde Paulus", "parish", "buero@paulus.example")
    page = client.get("/antrag/organisation/").get_data(as_text=True)
    client.post("/antrag/organisation/unterschriften", data={
        "csrf_token": csrf(page), "s-people-0-name": "Pastorin Lange", "s-people-0-function": "Vorsitz",
        "s-people-1-name": "Jonas Berg", "s-people-1-function": "Kirchenvorstand"})
    _profile(client, {"p-parish_resolution_on": (clock.today() - timedelta(days=5)).isoformat(), "p-seal_confirmed": "y",
                      "p-iban": "DE75512108001245126199", "p-account_holder": "Ev. Kirchengemeinde Paulus"})
    case_id = _start(client)
    start = clock.today() + timedelta(days=30)
    _post_step(client, case_id, "projekt", {"title": "Gemeindefest", "quarter": "Innenstadt", "description": "Fest",
                                             "aims": "Begegnung", "target_groups": "alle", "participants_expected": "80"})
    _post_step(client, case_id, "zeitraum", {"project_start": start.isoformat(), "project_end": start.isoformat()})
    _post_step(client, case_id, "finanzen", {"cost_items-0-name": "Zelt", "cost_items-0-amount": "800",
                                             "own_funds": "0", "requested": "800"})
    _post_step(client, case_id, "erklaerungen", {"decl_not_started": "y", "decl_other_funders": "y",
                                                 "decl_privacy": "y", "decl_parish_seal": "y"})
    html = client.get(f"/antrag/{case_id}/vorschau").get_data(as_text=True)
    assert "Das fehlt noch" not in html
    assert client.post(f"/antrag/{case_id}/vorschau", data={"csrf_token": csrf(html), "confirm": "y"}).status_code == 302
    with db.session() as s:
        assert s.get(Application, case_id).state == "submitted"
        screening.screen_case(s, case_id)
        verdicts = {v.rule: v.result for v in screening.latest_verdicts(s, case_id)}
    assert verdicts["non_profit_proof"] == "pass"        # no Freistellungsbescheid asked of a parish


def test_a_look_alike_or_a_link_is_no_organisation_name(app, world, db):
    from grants.models import Organisation

    client = app.test_client()
    for name, why in [("Verein A e.V.".replace("e", "е", 1), "Schriften"),       # Cyrillic е
                      ("Gewinnspiel auf www.evil.example", "Internet")]:
        page = client.get("/registrieren").get_data(as_text=True)
        r = client.post("/registrieren", data={
            "csrf_token": csrf(page), "org_name": name, "kind": "association", "name": "Karin Meyer",
            "email": "karin@evil.example", "password": "ein sicheres Passwort", "confirm": "ein sicheres Passwort",
            "privacy": "y"})
        assert r.status_code == 400 and why in r.get_data(as_text=True)
        with db.session() as s:
            assert s.scalar(select(Organisation.id).where(Organisation.name == name)) is None
    r = client.get("/registrieren?lang=en")
    page = r.get_data(as_text=True)
    r = client.post("/registrieren", data={
        "csrf_token": csrf(page), "org_name": "Сaritas", "kind": "association", "name": "Karin Meyer",
        "email": "karin@evil.example", "password": "ein sicheres Passwort", "confirm": "ein sicheres Passwort",
        "privacy": "y"})
    assert r.status_code == 400 and "scripts" in r.get_data(as_text=True)


def _try_register(client, org_name, email):
    page = client.get("/registrieren").get_data(as_text=True)
    return client.post("/registrieren", data={
        "csrf_token": csrf(page), "org_name": org_name, "kind": "association", "name": "Karin Meyer",
        "email": email, "password": "ein sicheres Passwort", "confirm": "ein sicheres Passwort", "privacy": "y"})


def test_registration_and_invitation_do_not_tell_who_has_an_account(app, world, db):
    from grants.models import Membership, Organisation, User

    client = app.test_client()
    fresh = _try_register(client, "Neuer Verein e.V.", "neu@verein.example")
    taken_address = _try_register(client, "Noch ein Verein e.V.", "staff@test.example")
    taken_name = _try_register(client, "Verein A e.V.", "fremd@verein.example")
    pages = [r.get_data(as_text=True) for r in (fresh, taken_address, taken_name)]
    assert {r.status_code for r in (fresh, taken_address, taken_name)} == {200}
    assert all("schon" not in p and "Verein A" not in p for p in pages[1:])
    with db.session() as s:
        assert s.scalar(select(Organisation.id).where(Organisation.name == "Noch ein Verein e.V.")) is None
        told = {m.recipient: m.body for m in s.scalars(select(Message).where(Message.template == "registration_refused"))}
        assert "schon ein Konto" in told["staff@test.example"] and "schon registriert" in told["fremd@verein.example"]
    manager = app.test_client()
    login(manager, "applicant_a@test.example")
    page = manager.get("/antrag/organisation/").get_data(as_text=True)
    r = manager.post("/antrag/organisation/einladen", data={"csrf_token": csrf(page), "i-email": "staff@test.example"},
                     follow_redirects=True)
    assert "Die Einladung ist verschickt." in r.get_data(as_text=True) and "schon ein Konto" not in r.get_data(as_text=True)
    with db.session() as s:
        staff_id = s.scalar(select(User.id).where(User.email == "staff@test.example"))
        assert s.scalar(select(Membership.id).where(Membership.user_id == staff_id)) is None


def test_an_invited_address_can_still_found_its_own_organisation(app, world, db):
    from grants.models import Membership, User

    manager = app.test_client()
    login(manager, "applicant_a@test.example")
    page = manager.get("/antrag/organisation/").get_data(as_text=True)
    manager.post("/antrag/organisation/einladen", data={"csrf_token": csrf(page), "i-email": "karin@b.example"})
    r = _try_register(app.test_client(), "Karins Nachbarschaftstreff", "karin@b.example")
    assert r.status_code == 200
    client = app.test_client()
    client.get(_mail_link(db, "karin@b.example", "/bestaetigen"))
    assert login(client, "karin@b.example", "ein sicheres Passwort").headers["Location"].endswith("/antrag/")
    with db.session() as s:
        user = s.scalar(select(User).where(User.email == "karin@b.example"))
        managed = s.scalars(select(Membership.manager).where(Membership.user_id == user.id)
                            .order_by(Membership.id)).all()
        assert managed == [True]             # the manager of her own; the invitation she never took ended
