"""The finance front door: role checks, four eyes in the web, donation by hand, upload, queue, exports."""

import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from grants.models import BankEntry, FlowJob, LedgerEntry, ManualBooking, Payout, PayoutRun
from grants.services import ledger
from tests.camt_builder import N, T, statement
from tests.factories import granted_case
from tests.web.helpers import csrf, login

FUND_IBAN = "DE89370400440532013000"


def _post(client, path, data=None, page="/finanzen/", **kw):
    token = csrf(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kw)


@pytest.mark.parametrize("who", ["applicant_a", "staff", "committee", "chair", "admin"])
@pytest.mark.parametrize("path", ["/finanzen/auszahlungen", "/finanzen/kontoauszug", "/finanzen/offene-posten",
                                  "/finanzen/hauptbuch.csv", "/finanzen/spenden/neu"])
def test_only_finance_may(client, world, who, path):
    login(client, f"{who}@test.example")
    assert client.get(path).status_code == 403


def test_dashboard_shows_balances_in_german_format(client, world):
    login(client, "finance@test.example")
    html = client.get("/finanzen/").get_data(as_text=True)
    assert "10.000,00\xa0€" in html
    assert "<svg" in html and "Spenden, Bewilligungen und Auszahlungen je Monat" in html


def test_donation_by_hand_with_bad_amounts_refused(client, world, db):
    login(client, "finance@test.example")
    page = "/finanzen/spenden/neu"
    for bad in ("1e5", "-500", "12,345", "abc"):
        r = _post(client, page, {"donor": "Rotary", "booked_on": "2026-11-20", "amount": bad}, page=page)
        assert r.status_code == 400 and "Bitte geben Sie einen Betrag wie 1.250,00 an" in r.get_data(as_text=True)
        assert 'value="Rotary"' in r.get_data(as_text=True)   # nothing typed is lost
    r = _post(client, page, {"donor": "Rotary Club", "booked_on": "2026-11-20", "amount": "250,50",
                             "purpose": "Benefizkonzert"}, page=page)
    assert r.status_code == 302
    with db.session() as s:
        assert ledger.balances(s, world.fund_id).donations == Decimal("10250.50")
    # the month of the donation as the locale names it, in the table and under its column
    html = client.get("/finanzen/").get_data(as_text=True)
    assert '<th scope="row">November 2026</th>' in html and '>Nov. 2026</text>' in html and "2026-11" not in html
    assert '>Nov 2026</text>' in client.get("/finanzen/?lang=en").get_data(as_text=True)


def test_four_eyes_in_the_web_and_sepa_download(app, world, db):
    granted_case(db, world, "900.00")
    c1, c2 = app.test_client(), app.test_client()
    login(c1, "finance@test.example")
    login(c2, "finance2@test.example")
    page = "/finanzen/auszahlungen"
    assert _post(c1, "/finanzen/auszahlungen/planen", page=page).status_code == 302
    assert _post(c1, "/finanzen/auszahlungen/zahllauf", page=page).status_code == 302
    with db.session() as s:
        run_id = s.scalar(select(PayoutRun.id))
    _post(c1, f"/finanzen/auszahlungen/zahllauf/{run_id}/freigeben", page=page)
    with db.session() as s:
        assert s.scalar(select(Payout.state)) == "due"
    assert "Freigabe durch eine zweite Person" in c1.get(page).get_data(as_text=True)
    _post(c2, f"/finanzen/auszahlungen/zahllauf/{run_id}/freigeben", page=page)
    resp = _post(c2, "/finanzen/auszahlungen/sepa-datei", page=page)
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    assert b"pain.001.001.09" in resp.data and b"<InstdAmt Ccy=\"EUR\">900.00</InstdAmt>" in resp.data
    with db.session() as s:
        assert s.scalar(select(Payout.state)) == "sent"
    # the second click of a double click gets no second file, and the first file stays at hand
    again = _post(c2, "/finanzen/auszahlungen/sepa-datei", page=page)
    assert again.status_code == 302
    html = c2.get(page).get_data(as_text=True)
    assert "Erzeugte SEPA-Dateien" in html
    kept = c2.get(f"/finanzen/auszahlungen/zahllauf/{run_id}/sepa-datei")
    assert kept.status_code == 200 and kept.data == resp.data
    assert c2.get("/finanzen/auszahlungen/zahllauf/999/sepa-datei").status_code == 404
    login(c1, "staff@test.example")
    assert c1.get(f"/finanzen/auszahlungen/zahllauf/{run_id}/sepa-datei").status_code == 403


def _donation_form(client):
    page = "/finanzen/spenden/neu"
    html = client.get(page).get_data(as_text=True)
    key = re.search(r'name="request_key" type="hidden" value="([0-9a-f]+)"', html).group(1)
    return {"csrf_token": csrf(html), "request_key": key, "donor": "Stiftung Bürgersinn", "booked_on": "2026-11-20",
            "amount": "5.000,00", "purpose": "Jahresspende"}


def test_a_large_donation_by_hand_is_booked_once_after_a_second_person_confirms(app, world, db):
    c1, c2 = app.test_client(), app.test_client()
    login(c1, "finance@test.example")
    login(c2, "finance2@test.example")
    form = _donation_form(c1)
    for _ in range(3):                                   # a triple click sends the same form thrice
        assert c1.post("/finanzen/spenden/neu", data=form).status_code == 302
    with db.session() as s:
        [booking] = s.scalars(select(ManualBooking)).all()
        assert booking.state == "pending"
        assert ledger.balances(s, world.fund_id).donations == Decimal("10000.00")
    html = c1.get("/finanzen/spenden").get_data(as_text=True)
    assert "Warten auf eine zweite Person" in html and "Stiftung Bürgersinn" in html
    assert "Bestätigen und buchen" not in html                       # not for the one who entered it
    r = _post(c1, f"/finanzen/buchungen/{booking.id}/bestaetigen", page="/finanzen/spenden")
    assert r.status_code == 302
    assert "Vier-Augen-Prinzip" in c1.get("/finanzen/spenden").get_data(as_text=True)
    assert "Bestätigen und buchen" in c2.get("/finanzen/spenden").get_data(as_text=True)
    for _ in range(2):
        _post(c2, f"/finanzen/buchungen/{booking.id}/bestaetigen", page="/finanzen/spenden")
    with db.session() as s:
        assert ledger.balances(s, world.fund_id).donations == Decimal("15000.00")
        assert s.get(ManualBooking, booking.id).state == "booked"


def test_a_run_can_be_cancelled_with_a_reason(app, world, db):
    granted_case(db, world, "900.00")
    c1 = app.test_client()
    login(c1, "finance@test.example")
    page = "/finanzen/auszahlungen"
    _post(c1, "/finanzen/auszahlungen/planen", page=page)
    _post(c1, "/finanzen/auszahlungen/zahllauf", page=page)
    with db.session() as s:
        run_id = s.scalar(select(PayoutRun.id))
    html = c1.get(page).get_data(as_text=True)
    assert "1 Auszahlung, zusammen 900,00\xa0€" in html
    _post(c1, f"/finanzen/auszahlungen/zahllauf/{run_id}/stornieren", {"reason": ""}, page=page)
    with db.session() as s:
        assert s.get(PayoutRun, run_id).state == "prepared"
    _post(c1, f"/finanzen/auszahlungen/zahllauf/{run_id}/stornieren", {"reason": "falsches Datum"}, page=page)
    with db.session() as s:
        assert s.get(PayoutRun, run_id).state == "cancelled"
        assert s.scalar(select(Payout.state)) == "due"


def test_upload_runs_the_reconciliation_flow_and_the_queue_assigns(client, world, db, prefect_harness, config):
    from grants import runtime
    from grants.engine.runner import JobRunner

    login(client, "finance@test.example")
    xml = statement(FUND_IBAN, [N("75.00", False, [T("75.00", "X1", "Druckerei", "DE02120300000000202051", "Flyer")]),
                                N("30.00", True, [T("30.00", None, "Anna", None, "Spende")])])
    r = _post(client, "/finanzen/kontoauszug", {"statement": (io.BytesIO(xml), "auszug.xml")},
              page="/finanzen/kontoauszug", content_type="multipart/form-data")
    assert r.status_code == 302
    status_page = r.headers["Location"]
    assert "wird eingelesen" in client.get(status_page).get_data(as_text=True)
    runtime.install(config, db)
    try:
        JobRunner(db).drain(timeout=120)
    finally:
        runtime.reset()
    html = client.get(status_page).get_data(as_text=True)
    assert "Fertig." in html
    with db.session() as s:
        job = s.scalar(select(FlowJob).where(FlowJob.flow == "reconcile_statement"))
        assert job.result["matched"] == 1 and job.result["unmatched"] == 1
        entry_id = s.scalar(select(BankEntry.id).where(BankEntry.match_state == "unmatched"))
    queue = client.get("/finanzen/offene-posten").get_data(as_text=True)
    assert "Druckerei" in queue
    # "other" needs a note; with it the entry leaves the queue, audited
    _post(client, "/finanzen/offene-posten", {"entry_id": entry_id, "kind": "other"}, page="/finanzen/offene-posten")
    with db.session() as s:
        assert s.get(BankEntry, entry_id).match_state == "unmatched"
    _post(client, "/finanzen/offene-posten", {"entry_id": entry_id, "kind": "other", "note": "Druckkosten, Haushalt"},
          page="/finanzen/offene-posten")
    with db.session() as s:
        assert s.get(BankEntry, entry_id).match_state == "ignored"


def test_hostile_upload_is_refused_without_booking(client, world, db, prefect_harness, config):
    from grants import runtime
    from grants.engine.runner import JobRunner

    login(client, "finance@test.example")
    r = _post(client, "/finanzen/kontoauszug", {"statement": (io.BytesIO(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>"), "evil.xml")},
              page="/finanzen/kontoauszug", content_type="multipart/form-data")
    runtime.install(config, db)
    try:
        JobRunner(db).drain(timeout=120)
    finally:
        runtime.reset()
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "abgelehnt" in html and "DOCTYPE" in html
    with db.session() as s:
        assert s.scalar(select(BankEntry.id)) is None


def test_ledger_exports(client, world, db):
    with db.session() as s:
        s.add(LedgerEntry(fund_id=world.fund_id, kind="donation", amount=Decimal("5.00"),
                          booked_on=__import__("datetime").date(2026, 11, 1), donor="=HYPERLINK(\"x\")"))
    login(client, "finance@test.example")
    csv_text = client.get("/finanzen/hauptbuch.csv").data.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Nr.;Buchungsdatum;Art")
    assert "10000,00" in csv_text and "'=HYPERLINK" in csv_text
    wb = load_workbook(io.BytesIO(client.get("/finanzen/hauptbuch.xlsx").data))
    ws = wb.active
    assert ws["A1"].value == "Nr." and ws["E2"].value == 10000
