"""The proof of use in the web: the organisation fills it in (mistakes kept and named), sends it;
staff see the arithmetic and reclaim; finance sees the claim. Other organisations and roles are
kept out, bad input gets a message and never a 500."""


from sqlalchemy import select

from grants.models import Application, CostItem, Reclaim
from tests.services.test_proof_of_use import _paid_case
from tests.web.helpers import csrf, login


def _post(client, url, data, action="next"):
    token = csrf(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "action": action, **data})


def test_an_organisation_reports_and_staff_reclaim(app, world, db, tmp_path):
    case_id = _paid_case(db, world, tmp_path)
    with db.session() as s:
        items = {c.description: c.id for c in s.scalars(select(CostItem).where(CostItem.application_id == case_id))}
    client = app.test_client()
    login(client, "applicant_a@test.example")
    page = client.get(f"/antrag/{case_id}").get_data(as_text=True)
    assert "Verwendungsnachweis ausfüllen" in page
    base = f"/antrag/{case_id}/nachweis"
    r = _post(client, f"{base}/bericht", {"report": "Zwölf Treffen.", "participants_actual": "viele"})
    assert r.status_code == 400 and "ganze Zahl" in r.get_data(as_text=True)
    assert "Zwölf Treffen." in client.get(f"{base}/bericht").get_data(as_text=True)     # kept
    assert _post(client, f"{base}/bericht", {"report": "Zwölf Treffen.", "participants_actual": "85"}).status_code == 302
    r = _post(client, f"{base}/ausgaben", {f"actual_{items['Honorar']}": "1.000,00", f"actual_{items['Miete']}": "-5",
                                           "own_funds_actual": "0", "other_funding_actual": "0"})
    assert r.status_code == 400 and "Betrag wie 1.250,00" in r.get_data(as_text=True)
    assert _post(client, f"{base}/ausgaben", {f"actual_{items['Honorar']}": "1.000,00", f"actual_{items['Miete']}": "200",
                                              "own_funds_actual": "0", "other_funding_actual": "0"}).status_code == 302
    r = _post(client, f"{base}/belege", {"receipts-0-paid_on": "2026-06-10", "receipts-0-payee": "Frau A.",
                                         "receipts-0-purpose": "Honorar", "receipts-0-amount": "1000",
                                         "receipts-1-paid_on": "2026-07-01", "receipts-1-payee": "",
                                         "receipts-1-purpose": "Miete", "receipts-1-amount": "200"})
    assert r.status_code == 400 and "ganze Zeile" in r.get_data(as_text=True)
    _post(client, f"{base}/belege", {"receipts-0-paid_on": "2026-06-10", "receipts-0-payee": "Frau A.",
                                     "receipts-0-purpose": "Honorar", "receipts-0-amount": "1000",
                                     "receipts-1-paid_on": "01.07.2026", "receipts-1-payee": "Gemeindehaus",
                                     "receipts-1-purpose": "Miete", "receipts-1-amount": "200"})
    preview = client.get(f"{base}/vorschau").get_data(as_text=True)
    assert "300,00" in preview and "zurück" in preview and "Das fehlt noch" not in preview
    r = client.post(f"{base}/vorschau", data={"csrf_token": csrf(preview)})
    assert r.status_code == 400 and "Bitte bestätigen" in r.get_data(as_text=True)
    r = client.post(f"{base}/vorschau", data={"csrf_token": csrf(preview), "confirm": "y"})
    assert r.status_code == 302
    assert client.get(f"{base}/bericht").status_code == 409         # sent: no more changes
    # another organisation sees nothing; staff pages are not for applicants
    other = app.test_client()
    login(other, "applicant_b@test.example")
    assert other.get(f"{base}/bericht").status_code == 404
    assert client.get(f"/fachdienst/nachweis/{case_id}").status_code == 403
    committee = app.test_client()
    login(committee, "committee@test.example")
    assert committee.get(f"/fachdienst/nachweis/{case_id}").status_code == 403
    # staff: the check page with the arithmetic, a bad amount, then the reclaim
    staff = app.test_client()
    login(staff, "staff@test.example")
    assert "Nachweise" in staff.get("/fachdienst/nachweise").get_data(as_text=True)
    check = staff.get(f"/fachdienst/nachweis/{case_id}").get_data(as_text=True)
    assert "Rechnerische Prüfung" in check and 'value="300,00"' in check and "Zwölf Treffen." in check
    r = staff.post(f"/fachdienst/nachweis/{case_id}/annehmen", data={"csrf_token": csrf(check), "note": ""},
                   follow_redirects=True)
    assert "zurückzufordern" in r.get_data(as_text=True)
    r = staff.post(f"/fachdienst/nachweis/{case_id}/rueckforderung",
                   data={"csrf_token": csrf(check), "amount": "drei", "reasons": "x"}, follow_redirects=True)
    assert r.status_code == 200 and "Betrag wie 250,00" in r.get_data(as_text=True)
    r = staff.post(f"/fachdienst/nachweis/{case_id}/rueckforderung", data={"csrf_token": "nope", "amount": "300"})
    assert r.status_code == 400
    r = staff.post(f"/fachdienst/nachweis/{case_id}/rueckforderung",
                   data={"csrf_token": csrf(check), "amount": "300,00", "reasons": "Miete günstiger als geplant."},
                   follow_redirects=True)
    assert "Rückforderung ist angelegt" in r.get_data(as_text=True)
    with db.session() as s:
        assert s.get(Application, case_id).state == "reclaim"
        assert s.scalar(select(Reclaim)).principal == 300
    page = client.get(f"/antrag/{case_id}").get_data(as_text=True)
    assert "Rückforderung" in page and "noch offen" in page.lower()
    finance = app.test_client()
    login(finance, "finance@test.example")
    listing = finance.get("/finanzen/rueckforderungen").get_data(as_text=True)
    assert "300,00" in listing
    assert client.get("/finanzen/rueckforderungen").status_code == 403
    # English
    en = client.get(f"/antrag/{case_id}?lang=en").get_data(as_text=True)
    assert "Proof of use" in en
