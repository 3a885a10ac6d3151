"""The fund's money round trip: payouts planned, prepared and released by two people, the SEPA
file, a bank statement built from it (single, batch, return), import, balances; re-import
changes nothing; hostile bank files are refused whole."""

import io
import zipfile
from datetime import date
from decimal import Decimal as D

import pytest
from lxml import etree
from sqlalchemy import func, select

from grants import clock
from grants.banking.camt import StatementError
from grants.models import Application, BankEntry, BankStatement, Fund, LedgerEntry, Message, Payout
from grants.services import fund as fund_service
from grants.services import ledger, payouts, statements
from grants.services.actor import Actor
from grants.services.errors import Forbidden
from tests.camt_builder import N, T, statement
from tests.data import OCA_CAMT053
from tests.factories import actor_for, granted_case

FUND_IBAN = "DE89370400440532013000"
PAIN = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.09}"
SAMPLE = OCA_CAMT053


def _pay_out(db, world, tmp_path, *amounts):
    """Grant, plan, prepare (finance), release (finance2), write the file; returns (case ids, xml root)."""
    case_ids = [granted_case(db, world, a, org="a" if i % 2 == 0 else "b") for i, a in enumerate(amounts)]
    f1, f2 = actor_for(db, world.users["finance"]), actor_for(db, world.users["finance2"])
    with db.session() as s:
        payouts.plan(s, f1)
        run = payouts.prepare_run(s, f1)
    with db.session() as s:
        with pytest.raises(Forbidden, match="Vier-Augen"):
            payouts.release_run(s, f1, run.id)
    with db.session() as s:
        payouts.release_run(s, f2, run.id)
    out = tmp_path / "pain.xml"
    with db.session() as s:
        result = payouts.write_file(s, f2, out)
    assert result.count == len(amounts)
    return case_ids, etree.parse(str(out)).getroot()


def _transfers(root):
    return [(tx.findtext(f"{PAIN}PmtId/{PAIN}EndToEndId"), tx.find(f"{PAIN}Amt/{PAIN}InstdAmt").text,
             tx.findtext(f"{PAIN}CdtrAcct/{PAIN}Id/{PAIN}IBAN"), tx.findtext(f"{PAIN}Cdtr/{PAIN}Nm"))
            for tx in root.iter(f"{PAIN}CdtTrfTxInf")]


def _import(db, tmp_path, xml: bytes, name="stmt.xml", **kw):
    path = tmp_path / name
    path.write_bytes(xml)
    with db.session() as s:
        return statements.import_file(s, path, Actor.system("test"), **kw)


def _balances(db, world):
    with db.session() as s:
        return ledger.balances(s, world.fund_id)


def test_payout_file_has_what_the_bank_needs(db, world, tmp_path):
    case_ids, root = _pay_out(db, world, tmp_path, "1000.00", "2500.50")
    assert root.tag == f"{PAIN}Document"
    assert root.findtext(f".//{PAIN}DbtrAcct/{PAIN}Id/{PAIN}IBAN") == FUND_IBAN
    txs = _transfers(root)
    with db.session() as s:
        rows = s.scalars(select(Payout).order_by(Payout.id)).all()
        fns = [s.get(Application, i).file_number for i in case_ids]
    assert [t[0] for t in txs] == [p.end_to_end_id for p in rows]
    assert all(len(t[0]) <= 35 for t in txs)
    assert [t[1] for t in txs] == ["1000.00", "2500.50"]
    remittances = [u.text for u in root.iter(f"{PAIN}Ustrd")]
    assert remittances == [f"Zuwendung {fn}" for fn in fns]
    assert {p.state for p in rows} == {"sent"}
    # nothing left to send: a second file is not written
    with db.session() as s:
        assert payouts.write_file(s, Actor.system("test"), tmp_path / "again.xml").count == 0
    assert not (tmp_path / "again.xml").exists()


def test_umlauts_are_transliterated_and_the_address_is_structured(db, world, tmp_path):
    from grants.models import Organisation

    with db.session() as s:
        org = s.get(Organisation, world.org_ids["a"])
        org.account_holder, org.street, org.postcode, org.city = "Bürgerverein Schölerberg e.V.", "Weißenburgstraße 7b", "49082", "Osnabrück"
    _, root = _pay_out(db, world, tmp_path, "700.00")
    assert root.findtext(f".//{PAIN}Cdtr/{PAIN}Nm") == "Buergerverein Schoelerberg e.V."
    adr = root.find(f".//{PAIN}Cdtr/{PAIN}PstlAdr")
    assert [adr.findtext(f"{PAIN}{t}") for t in ("StrtNm", "BldgNb", "PstCd", "TwnNm", "Ctry")] == [
        "Weissenburgstrasse", "7b", "49082", "Osnabrueck", "DE"]


def test_round_trip_single_and_batch_then_reimport_changes_nothing(db, world, tmp_path):
    case_ids, root = _pay_out(db, world, tmp_path, "1000.00", "2000.00", "300.00")
    (e1, a1, i1, n1), (e2, a2, i2, n2), (e3, a3, i3, n3) = _transfers(root)
    before = _balances(db, world)
    xml = statement(FUND_IBAN, [
        N(a1, credit=False, txs=[T(a1, e1, n1, i1)]),
        N(f"{D(a2) + D(a3):.2f}", credit=False, txs=[T(a2, e2, n2, i2), T(a3, e3, n3, i3)]),  # batch booking
    ])
    r = _import(db, tmp_path, xml)
    assert (r.entries, r.matched, r.unmatched, r.already_imported) == (2, 2, 0, 0)
    with db.session() as s:
        assert {p.state for p in s.scalars(select(Payout))} == {"booked"}
        assert {s.get(Application, i).state for i in case_ids} == {"paid"}
    after = _balances(db, world)
    assert after.paid - before.paid == D("3300.00")
    assert after.available == before.available       # paying out what was committed changes nothing
    assert after.committed == before.committed - D("3300.00")
    again = _import(db, tmp_path, xml, name="same-again.xml")
    assert (again.entries, again.matched, again.already_imported) == (2, 0, 2)
    assert _balances(db, world) == after
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankStatement)) == 1


@pytest.mark.parametrize("version", ["02", "08"])
def test_return_reopens_the_payout_and_restores_paid(db, world, tmp_path, version):
    case_ids, root = _pay_out(db, world, tmp_path, "1500.00")
    e2e, amount, iban, name = _transfers(root)[0]
    _import(db, tmp_path, statement(FUND_IBAN, [N(amount, False, [T(amount, e2e, name, iban)])], version=version))
    booked = _balances(db, world)
    finance = actor_for(db, world.users["finance"])
    r = _import(db, tmp_path, statement(FUND_IBAN, [
        N(amount, True, [T(amount, e2e, name, iban, "RETURN AC04", return_reason="AC04")])],
        version=version, stmt_id="STMT-2"), name="return.xml")
    assert (r.matched, r.unmatched) == (1, 0)
    after = _balances(db, world)
    assert after.paid == booked.paid - D("1500.00")
    assert after.committed == booked.committed + D("1500.00")   # still owed
    assert after.available == booked.available
    with db.session() as s:
        p = s.scalar(select(Payout))
        assert (p.state, p.return_reason) == ("returned", "AC04")
        assert s.get(Application, case_ids[0]).state == "letter_sent"
        assert s.scalar(select(Message).where(Message.template == "payout_returned")) is not None
        # a new payout for what is still owed can be planned
        new = payouts.plan(s, finance)
        assert [p.amount for p in new] == [D("1500.00")]


def test_donations_refunds_pending_and_unknown_debits(db, world, tmp_path):
    case_id = granted_case(db, world, "800.00")
    with db.session() as s:
        fn = s.get(Application, case_id).file_number
    before = _balances(db, world)
    r = _import(db, tmp_path, statement(FUND_IBAN, [
        N("250.00", True, [T("250.00", None, "Erika Mustermann", "DE02120300000000202051", "Spende Osnabrück hilft")]),
        N("120.00", True, [T("120.00", None, "Verein A e.V.", "DE02120300000000202051", f"Rueckzahlung {fn}")]),
        N("99.00", True, [T("99.00", None, "Noch unterwegs")], status="PDNG"),
        N("45.00", False, [T("45.00", "XYZ", "Kontofuehrung", None, "Gebuehren")]),
    ]))
    assert (r.entries, r.matched, r.unmatched, r.ignored) == (4, 2, 1, 1)
    after = _balances(db, world)
    assert after.donations - before.donations == D("250.00")
    assert after.refunded - before.refunded == D("120.00")
    with db.session() as s:
        donation = s.scalar(select(LedgerEntry).where(LedgerEntry.kind == "donation", LedgerEntry.bank_entry_id.is_not(None)))
        assert donation.donor == "Erika Mustermann"
        refund = s.scalar(select(LedgerEntry).where(LedgerEntry.kind == "refund"))
        assert refund.application_id == case_id
        queue = s.scalars(select(BankEntry).where(BankEntry.match_state == "unmatched")).all()
        assert [q.amount for q in queue] == [D("45.00")]


def test_payout_without_end_to_end_id_matched_by_amount_iban_and_date(db, world, tmp_path):
    _, root = _pay_out(db, world, tmp_path, "640.00")
    _, amount, iban, name = _transfers(root)[0]
    r = _import(db, tmp_path, statement(FUND_IBAN, [N(amount, False, [T(amount, "NOTPROVIDED", name, iban)],
                                                      booked=clock.today())]))
    assert r.matched == 1
    with db.session() as s:
        assert s.scalar(select(Payout)).state == "booked"


def test_the_real_sample_imports_when_its_account_is_a_fund(db, world, tmp_path):
    with db.session() as s:
        s.add(Fund(name="Sample bank account", iban="NL77ABNA0574908765", account_holder="Example company"))
    with db.session() as s:
        r = statements.import_file(s, SAMPLE, Actor.system("test"))
    # the debit and the reversed direct-debit batch wait for a person; the credit is a donation
    assert (r.entries, r.matched, r.unmatched, r.already_imported) == (3, 1, 2, 0)
    with db.session() as s:
        donation = s.scalar(select(LedgerEntry).where(LedgerEntry.bank_entry_id.is_not(None)))
        assert (donation.kind, donation.donor, donation.amount) == ("donation", "3rd party Media", D("1405.31"))
        returns = s.scalars(select(BankEntry).where(BankEntry.return_reason == "AC06")).all()
        assert [e.amount for e in returns] == [D("564.05"), D("100.00")]


def test_zip_of_statements(db, world, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.xml", statement(FUND_IBAN, [N("10.00", True, [T("10.00", None, "A")])], stmt_id="Z1"))
        zf.writestr("b.xml", statement(FUND_IBAN, [N("20.00", True, [T("20.00", None, "B")])], stmt_id="Z2"))
    r = _import(db, tmp_path, buf.getvalue(), name="day.zip")
    assert (r.entries, r.matched) == (2, 2)


def _nothing_booked(db):
    with db.session() as s:
        return (s.scalar(select(func.count()).select_from(BankStatement)),
                s.scalar(select(func.count()).select_from(BankEntry)),
                s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.bank_entry_id.is_not(None))))


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return buf.getvalue()


GOOD = statement(FUND_IBAN, [N("10.00", True, [T("10.00", None, "Spender")])])
HOSTILE = {
    "not xml": (b"%PDF-1.7 this is not a statement", "well-formed"),
    "empty": (b"", "well-formed"),
    "wrong message": (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn/></Document>',
                      "not a camt.053"),
    "camt.052": (GOOD.replace(b"camt.053.001.08", b"camt.052.001.08"), "camt.052"),
    "billion laughs": (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
                       + GOOD.split(b"?>", 1)[1].replace(b"Spender", b"&lol2;"), "DOCTYPE"),
    "external entity": (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                        + GOOD.split(b"?>", 1)[1].replace(b"Spender", b"&x;"), "DOCTYPE"),
    "exponent amount": (GOOD.replace(b">10.00<", b">1e5<"), "plain decimal"),
    "three decimals": (GOOD.replace(b">10.00<", b">10.005<"), "plain decimal"),
    "negative": (GOOD.replace(b">10.00<", b">-10.00<"), "plain decimal"),
    "dollars": (statement(FUND_IBAN, [N("10.00", True, [T("10.00", None, "X")])], ccy="USD"), "EUR"),
    "foreign account": (statement("DE02120300000000202051", [N("10.00", True, [T("10.00")])]), "not a fund account"),
    "batch does not add up": (statement(FUND_IBAN, [N("30.00", True, [T("10.00"), T("15.00")])]), "add up"),
    "zip slip": (_zip({"../../etc/evil.xml": GOOD}), "folder parts"),
    "zip folder": (_zip({"sub/stmt.xml": GOOD}), "folder parts"),
    "zip with a bad member": (_zip({"a.xml": GOOD, "b.xml": b"<oops"}), "camt.053|well-formed"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_bank_files_are_refused_whole(db, world, tmp_path, case):
    data, message = HOSTILE[case]
    before = _nothing_booked(db)
    with pytest.raises(StatementError, match=message):
        _import(db, tmp_path, data, name="hostile.zip" if data[:2] == b"PK" else "hostile.xml")
    assert _nothing_booked(db) == before


def test_oversized_files_and_zip_bombs_are_refused(db, world, tmp_path):
    big = statement(FUND_IBAN, [N("1.00", True, [T("1.00", None, "x" * 100)]) for _ in range(200)])
    with pytest.raises(StatementError, match="larger than"):
        _import(db, tmp_path, big, max_bytes=10_000)
    bomb = _zip({"bomb.xml": big})
    with pytest.raises(StatementError, match="inflates|larger than"):
        _import(db, tmp_path, bomb, name="bomb.zip", max_bytes=10_000)
    assert _nothing_booked(db) == (0, 0, 0)


def test_the_ledger_reconciles_through_the_whole_round_trip(db, world, tmp_path):
    case_ids, root = _pay_out(db, world, tmp_path, "1000.00", "400.00")
    (e1, a1, i1, n1), (e2, a2, i2, n2) = _transfers(root)
    _import(db, tmp_path, statement(FUND_IBAN, [N(a1, False, [T(a1, e1, n1, i1)]), N(a2, False, [T(a2, e2, n2, i2)])]))
    _import(db, tmp_path, statement(FUND_IBAN, [N(a2, True, [T(a2, e2, n2, i2, return_reason="AC04")])],
                                    stmt_id="S2"), name="r.xml")
    with db.session() as s:
        assert fund_service.reconciliation_problems(s, world.fund_id) == []
        # a payout entry without a booked payout is found
        s.add(LedgerEntry(fund_id=world.fund_id, kind="payout", amount=D("5.00"), booked_on=date(2026, 11, 1),
                          application_id=case_ids[0]))
        s.flush()
        assert fund_service.reconciliation_problems(s, world.fund_id)


def test_a_donation_is_reclassified_by_reversal_never_edited(db, world, tmp_path):
    case_ids, root = _pay_out(db, world, tmp_path, "500.00")
    e, a, i, n = _transfers(root)[0]
    with db.session() as s:
        fn = s.get(Application, case_ids[0]).file_number
    _import(db, tmp_path, statement(FUND_IBAN, [N(a, False, [T(a, e, n, i)]),
                                                N("60.00", True, [T("60.00", None, "Verein A e.V.", None, "Rest")])]))
    before = _balances(db, world)
    finance = actor_for(db, world.users["finance"])
    with db.session() as s:
        donation = s.scalar(select(LedgerEntry).where(LedgerEntry.kind == "donation", LedgerEntry.bank_entry_id.is_not(None)))
        fund_service.reclassify_donation(s, finance, donation.id, "refund", file_number=fn, reason="war eine Rückzahlung")
    after = _balances(db, world)
    assert after.donations == before.donations - D("60.00") and after.refunded == before.refunded + D("60.00")
    assert after.available == before.available
    with db.session() as s:
        assert s.get(LedgerEntry, donation.id).kind == "donation"          # the original row is untouched
        assert fund_service.reconciliation_problems(s, world.fund_id) == []


def test_instalments_split_by_configuration(db, world):
    from grants.models import Program

    with db.session() as s:
        s.get(Program, world.program_id).rules = {"instalments": [70, 30]}
    granted_case(db, world, "1000.01")
    with db.session() as s:
        created = payouts.plan(s, actor_for(db, world.users["finance"]))
    assert [p.amount for p in created] == [D("700.01"), D("300.00")] or [p.amount for p in created] == [D("700.00"), D("300.01")]
    assert sum(p.amount for p in created) == D("1000.01")


def test_no_payout_without_the_payee_s_address_and_finance_sees_what_is_missing(db, world, app):
    """Banks refuse transfers without a structured address (town at least): such a grant waits,
    listed for finance with what is missing, and is paid once the organisation added it."""
    from grants.models import Organisation
    from tests.web.helpers import login

    with db.session() as s:
        org = s.get(Organisation, world.org_ids["a"])
        org.postcode, org.city = "", " "
    case_id = granted_case(db, world, "1200.00")
    finance = actor_for(db, world.users["finance"])
    with db.session() as s:
        assert payouts.plan(s, finance) == []
        [b] = payouts.blocked(s)
        assert (b.case_id, b.owed, b.missing) == (case_id, D("1200.00"), ["Postleitzahl", "Stadt oder Gemeinde"])
    client = app.test_client()
    login(client, "finance@test.example")
    html = client.get("/finanzen/auszahlungen").get_data(as_text=True)
    assert "Noch nicht auszahlbar: Angaben fehlen" in html and "Postleitzahl, Stadt oder Gemeinde" in html
    assert "1.200,00" in html
    with db.session() as s:
        org = s.get(Organisation, world.org_ids["a"])
        org.postcode, org.city = "49078", "Osnabrück"
    with db.session() as s:
        assert [p.amount for p in payouts.plan(s, finance)] == [D("1200.00")] and payouts.blocked(s) == []
    assert "Noch nicht auszahlbar" not in client.get("/finanzen/auszahlungen").get_data(as_text=True)


def test_the_bescheid_names_the_instalments_it_is_paid_in(db, world):
    """Payout terms in the letter (DOMAIN: the Bescheid contains them) follow the configuration."""
    from grants.documents import decision_letter, render
    from grants.models import Decision, Program
    from grants.services import letters

    case_id = granted_case(db, world, "1200.00")
    with db.session() as s:
        s.add(Decision(application_id=case_id, kind="approve", amount=D("1200.00"), votes_yes=4))
    with db.session() as s:
        kind, data = letters.context(s, case_id)
        assert data["instalments"] == []
        assert "in einem Betrag" in render.html(decision_letter.TEMPLATE_OF[kind], data)
        s.get(Program, world.program_id).rules = {"instalments": [70, 30]}
    with db.session() as s:
        kind, data = letters.context(s, case_id)
        html = " ".join(render.html(decision_letter.TEMPLATE_OF[kind], data).split())
    assert "in 2 Teilbeträgen (840,00 €, 360,00 €)" in html


def test_a_return_after_the_project_ran_is_owed_again_and_the_organisation_is_told(db, world, tmp_path):
    """The case is in report_due (paid, project ended) when the bank sends the payout back: it stays
    there, the organisation is asked for its account, and the grant can be paid again."""
    case_ids, root = _pay_out(db, world, tmp_path, "650.00")
    e2e, amount, iban, name = _transfers(root)[0]
    _import(db, tmp_path, statement(FUND_IBAN, [N(amount, False, [T(amount, e2e, name, iban)])]))
    with db.session() as s:
        from grants.services import cases
        cases.transition(s, s.get(Application, case_ids[0]), "request_report", Actor.system("test"))
    _import(db, tmp_path, statement(FUND_IBAN, [
        N(amount, True, [T(amount, e2e, name, iban, "RETURN AC04", return_reason="AC04")])], stmt_id="STMT-2"),
        name="return.xml")
    finance = actor_for(db, world.users["finance"])
    with db.session() as s:
        assert s.get(Application, case_ids[0]).state == "report_due"
        assert s.scalar(select(Message).where(Message.template == "payout_returned")) is not None
        new = payouts.plan(s, finance)
        assert [p.amount for p in new] == [D("650.00")]
    assert _balances(db, world).paid == D("0.00")


def test_a_zero_credit_in_a_statement_is_no_donation(db, world, tmp_path):
    before = _balances(db, world)
    r = _import(db, tmp_path, statement(FUND_IBAN, [N("0.00", True, [T("0.00", None, "Bank", None, "Info")]),
                                                    N("25.00", True, [T("25.00", None, "Frau A", None, "Spende")])]))
    assert (r.matched, r.ignored) == (1, 1)
    assert _balances(db, world).donations == before.donations + D("25.00")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.amount == D("0.00"))) == 0


def test_a_statement_with_a_hidden_control_character_is_refused_whole(db, world, tmp_path):
    before = _balances(db, world)
    xml = statement(FUND_IBAN, [N("25.00", True, [T("25.00", None, "Frau A", None, "Spende")]),
                                N("30.00", True, [T("30.00", None, "Herr B", None, "Spende \u202eexe.pdf")])])
    with pytest.raises(StatementError, match="U\\+202E"):
        _import(db, tmp_path, xml)
    assert _balances(db, world) == before


def test_the_monthly_sums_agree_with_the_entries_after_imports_returns_and_reversals(db, world, tmp_path):
    case_ids, root = _pay_out(db, world, tmp_path, "1500.00", "700.00")
    txs = _transfers(root)
    _import(db, tmp_path, statement(FUND_IBAN, [N(a, False, [T(a, e, n, i)]) for e, a, i, n in txs] + [
        N("40.00", True, [T("40.00", None, "Frau A", None, "Spende")])]))
    e, a, i, n = txs[0]
    _import(db, tmp_path, statement(FUND_IBAN, [N(a, True, [T(a, e, n, i, "RETURN", return_reason="AC04")])],
                                    stmt_id="STMT-2"), name="r.xml")
    finance = actor_for(db, world.users["finance"])
    with db.session() as s:
        donation = s.scalar(select(LedgerEntry).where(LedgerEntry.kind == "donation", LedgerEntry.bank_entry_id.is_not(None)))
        fund_service.reclassify_donation(s, finance, donation.id, "other", reason="war keine Spende")
    with db.session() as s:
        assert ledger.balances(s, world.fund_id) == ledger.balances_from_entries(s, world.fund_id)
        assert fund_service.reconciliation_problems(s, world.fund_id, full=True) == []
        months = fund_service.monthly(s, world.fund_id)
        assert sum(m.get("payout", D("0")) for m in months.values()) == D("2200.00")
