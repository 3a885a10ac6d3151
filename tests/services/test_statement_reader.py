"""The statement reader (grants.banking.camt, in a second process for large files) reads what
the reference reader (tests/camt_reference.py) reads and refuses what it refuses; an import
through the reading process books the same as one without it, on SQLite and PostgreSQL."""

import io
import re
import zipfile
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from grants.banking import camt
from grants.banking.camt import StatementError
from grants.banking.camt_entries import Memo, entry
from grants.db import Database
from grants.domain.money import to_cents
from grants.migrate import upgrade
from grants.models import BankEntry, BankStatement, LedgerEntry
from grants.services import statements
from grants.services.actor import Actor
from tests import camt_reference
from tests.camt_builder import N, T, statement
from tests.conftest import empty_pg_url
from tests.services.test_fund import HOSTILE, SAMPLE

FUND_IBAN = "DE89370400440532013000"
IBAN_B = "DE02120300000000202051"


def _reference(data: bytes):
    out = []
    for item in camt_reference.read(io.BytesIO(data)):
        if isinstance(item, camt.StatementInfo):
            out.append(item)
        else:
            txs = tuple((t.credit, to_cents(t.amount), t.end_to_end_id, t.counterparty_name, t.counterparty_iban,
                         t.remittance, t.return_reason) for t in item.txs)
            out.append((item.acct_svcr_ref or item.ref, item.status, item.reversal,
                        item.booking_date and item.booking_date.isoformat(),
                        item.value_date and item.value_date.isoformat(), item.bank_tx_code, txs))
    return out


def _rows(data: bytes):
    memo, out = Memo(), []
    for item in camt.read(io.BytesIO(data), "stmt.xml"):
        if isinstance(item, tuple) and item[0] is None:
            memo.learn(item)
        else:
            out.append(item.info if isinstance(item, camt.Header) else entry(item, memo))
    return out


def _outcome(read, data: bytes):
    try:
        return read(data)
    except StatementError as e:
        return f"refused: {e}"


def _pretty(data: bytes) -> bytes:
    return etree.tostring(etree.fromstring(data), pretty_print=True, xml_declaration=True, encoding="UTF-8")


def _prefixed(data: bytes) -> bytes:
    text = data.decode()
    text = re.sub(r"<(/?)([A-Za-z]\w*)", r"<\1c:\2", text).replace(' xmlns="', ' xmlns:c="')
    return text.encode()


MIXED = [
    N("250.00", True, [T("250.00", None, "Erika Mustermann", IBAN_B, "Spende Osnabrück hilft")]),
    N("45.00", False, [T("45.00", "E2E-1", "Kontoführung", None, "Gebühren")]),
    N("99.00", True, [T("99.00", None, "Noch unterwegs")], status="PDNG"),
    N("300.00", False, [T("100.00", "B-1", "A", IBAN_B), T("200.00", "B-2", "B", None, "zwei")]),
    N("70.00", True, [T("70.00", "P-9", "Verein", IBAN_B, "RETURN AC04", return_reason="AC04")]),
    N("12.50", True, [T("12.50", "R-1", "Rev", IBAN_B)], reversal=True, booked=date(2026, 2, 28)),
    N("5", True, []),
    N("7.5", True, [T("7.5", None, "", "", "")]),
]


def _variants():
    for version in ("02", "08"):
        base = statement(FUND_IBAN, MIXED, version=version)
        yield f"{version}", base
        yield f"{version} pretty", _pretty(base)
        yield f"{version} prefixed", _prefixed(base)
    two = statement(FUND_IBAN, MIXED[:2], stmt_id="S1").replace(b"</BkToCstmrStmt></Document>", b"")
    second = statement(FUND_IBAN, MIXED[2:4], stmt_id="S2", seq=2)
    yield "two statements", two + second[second.index(b"<Stmt>"):]
    yield "no entries", statement(FUND_IBAN, [])
    special = statement(FUND_IBAN, [N("1.00", True, [T("1.00", "X", "Name", IBAN_B, "text")])])
    yield "date and time", special.replace(b"<BookgDt><Dt>2026-11-25</Dt>", b"<BookgDt><DtTm>2026-11-25T23:10:00Z</DtTm>")
    yield "structured reference", special.replace(b"<RmtInf><Ustrd>text</Ustrd></RmtInf>",
                                                  b"<RmtInf><Ustrd> a </Ustrd><Ustrd>b</Ustrd><Strd><CdtrRefInf>"
                                                  b"<Ref>RF18 DQD-2026-0042</Ref></CdtrRefInf></Strd></RmtInf>")
    yield "entry information", special.replace(b"<NtryDtls>", b"<AddtlNtryInf>Sammler</AddtlNtryInf><NtryDtls>")
    yield "no details", re.sub(rb"<NtryDtls>.*</NtryDtls>", b"<AddtlNtryInf> Sammler </AddtlNtryInf>", special)
    yield "amounts in .02 style", statement(FUND_IBAN, MIXED[3:4], version="02").replace(
        b"<TxAmt>", b"<InstdAmt><Amt Ccy=\"CHF\">9.00</Amt></InstdAmt><TxAmt>")
    yield "sample", SAMPLE.read_bytes()
    # refused, with the same message
    for name, (data, _) in HOSTILE.items():
        if not data.startswith(b"PK") and b"not a fund" not in data:
            yield f"hostile {name}", data
    yield "bad indicator", special.replace(b"<CdtDbtInd>CRDT</CdtDbtInd><Sts>", b"<CdtDbtInd>CREDIT</CdtDbtInd><Sts>")
    yield "bad date", special.replace(b"2026-11-25</Dt></BookgDt>", b"2026-13-25</Dt></BookgDt>")
    yield "entry amount empty", special.replace(b'<Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>',
                                                b'<Amt Ccy="EUR"/><CdtDbtInd>CRDT</CdtDbtInd><Sts>')
    yield "transaction amount empty", special.replace(b'<Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties>',
                                                      b'<Amt Ccy="EUR"></Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties>')
    yield "transaction in dollars", special.replace(b'<Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties>',
                                                    b'<Amt Ccy="USD">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties>')
    yield "entry before the account", special.replace(b"<Acct>", b"<Ntry><Amt/></Ntry><Acct>")
    yield "broken at the end", special[:-20]


@pytest.mark.parametrize("name,data", list(_variants()), ids=[n for n, _ in _variants()])
def test_the_reader_reads_and_refuses_as_the_reference(name, data):
    assert _outcome(_rows, data) == _outcome(_reference, data)


def test_a_charge_does_not_turn_a_credit_into_a_debit():
    """Chrgs/Rcrd/CdtDbtInd is the charge's direction, not the entry's. The reference reader takes
    it for the entry's, so this case is held to the expected value, not to the reference."""
    data = statement(FUND_IBAN, [N("10.00", True, [T("10.00", None, "Spender", IBAN_B)])])
    charge = b'<Chrgs><Rcrd><Amt Ccy="EUR">0.50</Amt><CdtDbtInd>DBIT</CdtDbtInd></Rcrd></Chrgs>'
    data = data.replace(b"<NtryDtls>", charge + b"<NtryDtls>").replace(b"<RltdPties>", charge + b"<RltdPties>")
    (entry,) = _rows(data)[1:]
    assert [tx[0] for tx in entry[6]] == [True]


# ---- importing through the reading process -----------------------------------------------------

def _import(db, path: Path, separate: bool):
    with db.session() as s:
        return statements.import_file(s, path, Actor.system("test"), separate=separate)


def _booked(db):
    with db.session() as s:
        entries = s.execute(select(BankEntry.entry_ref, BankEntry.status, BankEntry.credit, BankEntry.reversal,
                                   BankEntry.amount, BankEntry.booking_date, BankEntry.value_date,
                                   BankEntry.end_to_end_id, BankEntry.counterparty_name,
                                   BankEntry.counterparty_iban, BankEntry.remittance, BankEntry.return_reason,
                                   BankEntry.bank_tx_code, BankEntry.match_state, BankEntry.match_kind)
                           .order_by(BankEntry.id)).all()
        ledger = s.execute(select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.booked_on, LedgerEntry.donor,
                                  LedgerEntry.purpose, BankEntry.entry_ref)
                           .join(BankEntry, BankEntry.id == LedgerEntry.bank_entry_id)
                           .order_by(LedgerEntry.id)).all()
        counts = s.scalars(select(BankStatement.entry_count).order_by(BankStatement.id)).all()
    return entries, ledger, counts


def _day_file(tmp_path, n=1200) -> Path:
    entries = [N(f"{i % 300 + 1}.{i % 100:02d}", i % 7 != 0,
                 [T(f"{i % 300 + 1}.{i % 100:02d}", f"E-{i}", f"Person {i}", IBAN_B, f"Spende {i}")],
                 status="PDNG" if i % 11 == 0 else "BOOK") for i in range(n)]
    path = tmp_path / "day.xml"
    path.write_bytes(statement(FUND_IBAN, entries))
    return path


def test_the_reading_process_books_what_reading_here_books(db, world, tmp_path, config):
    path = _day_file(tmp_path)
    here = _import(db, path, separate=False)
    expected = _booked(db)
    other = Database(config.database_url.replace("grants.db", "other.db"))
    upgrade(other.url)
    from tests.factories import build_world

    build_world(other)
    there = _import(other, path, separate=True)
    assert there.as_dict() == here.as_dict()
    assert _booked(other) == expected
    # and a second time: recognised, nothing booked
    again = _import(other, path, separate=True)
    assert (again.entries, again.already_imported, again.matched) == (1200, 1200, 0)
    other.dispose()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_the_reading_process_refuses_what_is_refused(db, world, tmp_path, case):
    data, message = HOSTILE[case]
    path = tmp_path / ("hostile.zip" if data[:2] == b"PK" else "hostile.xml")
    path.write_bytes(data)
    with pytest.raises(StatementError, match=message):
        _import(db, path, separate=True)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankStatement)) == 0


def test_a_bad_entry_late_in_a_large_file_books_nothing(db, world, tmp_path):
    path = _day_file(tmp_path, 3000)
    data = path.read_bytes()
    cut = data.rindex(b'<Amt Ccy="EUR">')
    path.write_bytes(data[:cut] + b'<Amt Ccy="EUR">1e5' + data[data.index(b"<", cut + 15):])
    with pytest.raises(StatementError, match="entry 3000.*plain decimal"):
        _import(db, path, separate=True)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankEntry)) == 0


def test_zip_through_the_reading_process(db, world, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("b.xml", statement(FUND_IBAN, [N("20.00", True, [T("20.00", None, "B")])], stmt_id="Z2"))
        zf.writestr("a.xml", statement(FUND_IBAN, [N("10.00", True, [T("10.00", None, "A")])], stmt_id="Z1"))
    path = tmp_path / "day.zip"
    path.write_bytes(buf.getvalue())
    r = _import(db, path, separate=True)
    assert (r.entries, r.matched) == (2, 2)
    with db.session() as s:
        assert s.scalars(select(BankStatement.filename).order_by(BankStatement.id)).all() == ["a.xml", "b.xml"]


@pytest.fixture
def pg_db():
    url = empty_pg_url()
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def test_postgresql_books_the_same(pg_db, db, world, tmp_path):
    from tests.factories import build_world

    path = _day_file(tmp_path)
    _import(db, path, separate=False)
    build_world(pg_db)
    r = _import(pg_db, path, separate=True)
    assert (r.entries, r.already_imported) == (1200, 0)
    assert _booked(pg_db) == _booked(db)
    with pg_db.session() as s:
        total = s.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.bank_entry_id.is_not(None)))
    assert total == sum(e.amount for e in _booked(db)[0] if e.match_kind == "donation")
    assert isinstance(total, D)


def test_a_donor_name_longer_than_a_bank_entry_keeps_is_booked_whole(db, world, tmp_path):
    """The bank entry keeps 140 characters of a name, the donation's donor 200 (camt allows 140)."""
    long = "Förderverein " + "x" * 180
    path = tmp_path / "long.xml"
    path.write_bytes(statement(FUND_IBAN, [N("5.00", True, [T("5.00", None, long, IBAN_B, "Spende")]),
                                           N("6.00", True, [T("6.00", None, "", IBAN_B, "anonym")]),
                                           N("7.00", False, [T("7.00", "E-7", "Gebühr", None, "Gebühr")])]))
    _import(db, path, separate=False)
    entries, ledger, counts = _booked(db)
    assert [e.counterparty_name for e in entries] == [long[:140], "", "Gebühr"]
    assert [(row.kind, row.donor, row.purpose) for row in ledger] == [("donation", long[:200], "Spende"),
                                                                      ("donation", "unbekannt", "anonym")]
    assert counts == [3]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_payout_refund_and_return_through_the_reading_process(backend, request, db, world, tmp_path):
    """Every kind of ledger row the import writes, on both databases."""
    from grants.models import Application, Payout
    from grants.services import fund as fund_service
    from grants.services import ledger
    from tests.factories import build_world
    from tests.services.test_fund import _pay_out, _transfers

    if backend == "postgresql":
        db = request.getfixturevalue("pg_db")
        world = build_world(db)
    case_ids, root = _pay_out(db, world, tmp_path, "1000.00", "400.00")
    (e1, a1, i1, n1), (e2, a2, i2, n2) = _transfers(root)
    with db.session() as s:
        fn = s.get(Application, case_ids[0]).file_number
    path = tmp_path / "round.xml"
    path.write_bytes(statement(FUND_IBAN, [
        N(f"{D(a1) + D(a2):.2f}", False, [T(a1, e1, n1, i1), T(a2, e2, n2, i2)]),
        N("50.00", True, [T("50.00", None, "Verein A e.V.", IBAN_B, f"Rueckzahlung {fn}")]),
        N("20.00", True, [T("20.00", None, "", IBAN_B, "Spende")]),
    ]))
    before = _balances_of(db, world)
    r = _import(db, path, separate=True)
    assert (r.entries, r.matched, r.unmatched) == (3, 3, 0)
    path.write_bytes(statement(FUND_IBAN, [N(a2, True, [T(a2, e2, n2, i2, "RETURN AC04", return_reason="AC04")])],
                               stmt_id="S-2"))
    assert _import(db, path, separate=True).matched == 1
    with db.session() as s:
        ledger = s.execute(select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.donor, LedgerEntry.purpose,
                                  LedgerEntry.application_id.is_not(None), LedgerEntry.payout_id.is_not(None))
                           .where(LedgerEntry.bank_entry_id.is_not(None)).order_by(LedgerEntry.id)).all()
        assert [p.state for p in s.scalars(select(Payout).order_by(Payout.id))] == ["booked", "returned"]
        assert fund_service.reconciliation_problems(s, world.fund_id) == []
    assert ledger == [("payout", D(a1), "", "", True, True),
                      ("payout", D(a2), "", "", True, True),
                      ("refund", D("50.00"), "Verein A e.V.", f"Rueckzahlung {fn}", True, False),
                      ("donation", D("20.00"), "unbekannt", "Spende", False, False),
                      ("payout_return", D(a2), "", "Rückläufer AC04", True, True)]
    after = _balances_of(db, world)
    assert after.paid - before.paid == D(a1)
    assert after.donations - before.donations == D("20.00")
    assert after.refunded - before.refunded == D("50.00")


def _balances_of(db, world):
    from grants.services import ledger

    with db.session() as s:
        return ledger.balances(s, world.fund_id)


def test_a_file_of_ever_new_shapes_reuses_plan_ids(monkeypatch):
    monkeypatch.setattr(camt, "MAX_PLANS", 2)
    for version in ("02", "08"):
        data = statement(FUND_IBAN, MIXED * 2, version=version)
        assert _outcome(_rows, data) == _outcome(_reference, data)
