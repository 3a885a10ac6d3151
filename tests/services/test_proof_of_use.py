"""From the proof of use to the end of a grant: paid out through the bank, the organisation
reports (draft, what is missing, submit), staff check it; either the case closes, or money is
reclaimed with interest, the Rückforderungsbescheid goes out and the refund on the next bank
statement closes the case."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from grants.domain.form_spec import Step
from grants.domain.proof import ReceiptRow
from grants.models import Application, Attachment, AuditEvent, LedgerEntry, Letter, Message, Payout, Program, Reclaim
from grants.services import applications, cases, ledger, payouts, proof_check, proofs, reclaims, statements
from grants.services import fund as fund_service
from grants.services.actor import Actor
from grants.services.errors import Conflict, Forbidden, Invalid, NotFound
from tests.camt_builder import N, T, statement
from tests.factories import actor_for

FUND_IBAN = "DE89370400440532013000"
START, END = date(2026, 6, 1), date(2026, 9, 30)


def _paid_case(db, world, tmp_path) -> int:
    """Approved for 1,500 € on a plan of two lines, paid through a SEPA file and a bank statement."""
    applicant = actor_for(db, world.users["applicant_a"])
    system = Actor.system("test")
    f1, f2 = actor_for(db, world.users["finance"]), actor_for(db, world.users["finance2"])
    with db.session() as s:
        case = applications.create_draft(s, applicant, s.get(Program, world.program_id), world.org_ids["a"],
                                          title="Sprachcafé", requested=D("1500.00"), project_start=START,
                                          project_end=END, cost_items=[("Honorar", D("1000.00")), ("Miete", D("500.00"))])
        applications.submit(s, applicant, case)
        for action in ("start_screening", "mark_ready", "put_on_agenda"):
            cases.transition(s, case, action, system)
        ledger.commit_grant(s, system, case.id, D("1500.00"))
        for action in ("approve", "send_letter"):
            cases.transition(s, case, action, system)
        case_id = case.id
    with db.session() as s:
        payouts.plan(s, f1)
        run = payouts.prepare_run(s, f1)
    with db.session() as s:
        payouts.release_run(s, f2, run.id)
    with db.session() as s:
        payouts.write_file(s, f2, tmp_path / "pain.xml")
        p = s.scalar(select(Payout).where(Payout.application_id == case_id))
        e2e, iban = p.end_to_end_id, p.iban
    _import(db, tmp_path, statement(FUND_IBAN, [N("1500.00", False, [T("1500.00", e2e, "Verein", iban)],
                                                  booked=date(2026, 5, 20))], stmt_id="S-PAY"), "pay.xml")
    with db.session() as s:
        assert s.get(Application, case_id).state == "paid"
    return case_id


def _import(db, tmp_path, xml: bytes, name: str):
    path = tmp_path / name
    path.write_bytes(xml)
    with db.session() as s:
        return statements.import_file(s, path, Actor.system("test"))


def _step(db, case_id: int, step_id: str) -> Step:
    with db.session() as s:
        return proofs.spec_for(s.get(Program, s.get(Application, case_id).program_id)).step(step_id)


def _fill(db, world, case_id: int, *, honorar: str, miete: str, receipts: list[ReceiptRow], other="0.00"):
    applicant = actor_for(db, world.users["applicant_a"])
    steps = {k: _step(db, case_id, k) for k in ("bericht", "ausgaben", "belege")}     # before the session opens
    with db.session() as s:
        case, p = proofs.open_proof(s, applicant, case_id)
        items = {c.description: c.id for c in case.cost_items}
        proofs.save_step(s, applicant, case, p, steps["bericht"],
                         {"report": "Zwölf Treffen im Gemeindehaus, Deutsch und Arabisch.", "participants_actual": 85,
                          "events_held": 12, "lessons": ""}, {})
        proofs.save_step(s, applicant, case, p, steps["ausgaben"],
                         {"actual_costs": {items["Honorar"]: D(honorar), items["Miete"]: D(miete)},
                          "own_funds_actual": D("0.00"), "other_funding_actual": D(other)}, {})
        proofs.save_step(s, applicant, case, p, steps["belege"], {"receipts": receipts}, {})
        return [m.field for m in proofs.missing(s, case, p)]


def _receipts(*amounts):
    return [ReceiptRow(START + timedelta(days=10 * i), f"Empfänger {i}", "Honorar", D(a)) for i, a in enumerate(amounts)]


def test_proof_of_use_to_closed(db, world, tmp_path):
    case_id = _paid_case(db, world, tmp_path)
    applicant = actor_for(db, world.users["applicant_a"])
    other_org = actor_for(db, world.users["applicant_b"])
    staff = actor_for(db, world.users["staff"])
    with db.session() as s:                      # another organisation cannot even see it
        with pytest.raises(NotFound):
            proofs.open_proof(s, other_org, case_id)
    with db.session() as s:                      # nothing entered yet: everything is missing
        case, p = proofs.open_proof(s, applicant, case_id)
        assert {m.field for m in proofs.missing(s, case, p)} >= {"report", "participants_actual", "actual_costs", "receipts"}
    # the receipts do not add up to the spending: named, with both figures
    assert _fill(db, world, case_id, honorar="1000.00", miete="500.00", receipts=_receipts("1000.00", "400.00")) == ["receipts"]
    with db.session() as s:
        case, p = proofs.open_proof(s, applicant, case_id)
        m = proofs.missing(s, case, p)[0]
        assert m.kwargs == {"receipts": "1400.00", "actual": "1500.00"}
        with pytest.raises(Invalid):
            proofs.submit(s, applicant, case_id)
    assert _fill(db, world, case_id, honorar="1000.00", miete="500.00", receipts=_receipts("1000.00", "500.00")) == []
    with db.session() as s:                      # staff cannot accept what was not submitted
        with pytest.raises(Conflict):
            proof_check.accept(s, staff, case_id)
    with db.session() as s:
        proofs.submit(s, applicant, case_id)
    with db.session() as s:
        case = s.get(Application, case_id)
        assert case.state == "report_submitted"
        assert [e.to_state for e in cases.history(s, case_id)][-2:] == ["report_due", "report_submitted"]
        with pytest.raises(Conflict):            # submitted: the organisation cannot change it any more
            proofs.open_proof(s, applicant, case_id)
    with db.session() as s:                      # the applicant cannot check their own proof
        with pytest.raises(Forbidden):
            proof_check.accept(s, applicant, case_id)
    with db.session() as s:
        proof_check.accept(s, staff, case_id, note="Sachbericht und Belege schlüssig.")
    with db.session() as s:
        case = s.get(Application, case_id)
        assert case.state == "closed" and case.closed_at is not None
        event = s.scalar(select(AuditEvent).where(AuditEvent.application_id == case_id, AuditEvent.to_state == "closed"))
        assert event.actor == world.email("staff") and event.reason == "Sachbericht und Belege schlüssig."
        mail = s.scalars(select(Message).where(Message.application_id == case_id, Message.template == "proof")).all()
        assert mail and "in Ordnung" in mail[0].body
        assert fund_service.reconciliation_problems(s, world.fund_id) == []


def test_proof_returned_to_the_organisation_and_sent_again(db, world, tmp_path):
    case_id = _paid_case(db, world, tmp_path)
    applicant, staff = actor_for(db, world.users["applicant_a"]), actor_for(db, world.users["staff"])
    _fill(db, world, case_id, honorar="1000.00", miete="500.00", receipts=_receipts("1000.00", "500.00"))
    with db.session() as s:
        proofs.submit(s, applicant, case_id)
    with db.session() as s:
        with pytest.raises(Invalid):
            proof_check.return_to_applicant(s, staff, case_id, "  ")
        proof_check.return_to_applicant(s, staff, case_id, "Bitte ergänzen Sie die Zahl der Treffen im Bericht.")
    with db.session() as s:
        assert s.get(Application, case_id).state == "report_due"
        case, p = proofs.open_proof(s, applicant, case_id)       # editable again, the figures kept
        assert p.state == "returned" and proofs.missing(s, case, p) == []
        proofs.submit(s, applicant, case_id)
    with db.session() as s:
        assert s.get(Application, case_id).state == "report_submitted"


def test_proof_of_use_to_reclaim_to_refund_booked(prefect_harness, config, db, world, tmp_path):
    from grants import runtime
    from grants.engine.runner import JobRunner

    case_id = _paid_case(db, world, tmp_path)
    applicant, staff = actor_for(db, world.users["applicant_a"]), actor_for(db, world.users["staff"])
    finance = actor_for(db, world.users["finance"])
    # the rent was cheaper: 1,200 € spent of 1,500 € granted (fixed amount: 300 € come back)
    _fill(db, world, case_id, honorar="1000.00", miete="200.00", receipts=_receipts("1000.00", "200.00"))
    with db.session() as s:
        proofs.submit(s, applicant, case_id)
    with db.session() as s:
        with pytest.raises(Conflict, match="300,00"):
            proof_check.accept(s, staff, case_id)
    with db.session() as s:
        case = s.get(Application, case_id)
        assert reclaims.proposal(s, case) == D("300.00")
        with pytest.raises(Forbidden):
            reclaims.start(s, finance, case_id, amount="300,00", reasons="x")
        with pytest.raises(Invalid):
            reclaims.start(s, staff, case_id, amount="1600,00", reasons="Mehr als ausgezahlt.")
    with db.session() as s:
        with pytest.raises(Invalid):
            reclaims.start(s, staff, case_id, amount="300,00", reasons="")
    with db.session() as s:
        r = reclaims.start(s, staff, case_id, amount="300,00", today=date(2026, 11, 23),
                           reasons="Die Ausgaben für Miete lagen 300,00 € unter dem Finanzierungsplan.")
        # interest from the payout (20.05.2026) to the payment date (23.12.2026): 217 days at 1.27 % + 5
        assert (r.principal, r.interest_from, r.pay_by) == (D("300.00"), date(2026, 5, 20), date(2026, 12, 23))
        assert r.interest == (D("300.00") * D("6.27") / 100 * 217 / 365).quantize(D("0.01"))
        total = r.total
    with db.session() as s:
        assert s.get(Application, case_id).state == "reclaim"
        b = ledger.balances(s, world.fund_id)
        assert b.receivable == total
        claim = s.scalar(select(LedgerEntry).where(LedgerEntry.kind == "reclaim"))
        assert claim.amount == total and claim.application_id == case_id
        file_number = s.get(Application, case_id).file_number
        available_before = b.available
    runtime.install(config, db)
    try:
        JobRunner(db).drain(timeout=120)
    finally:
        runtime.reset()
    with db.session() as s:
        letter = s.scalar(select(Letter).where(Letter.application_id == case_id, Letter.kind == "reclaim"))
        assert letter is not None and letter.state == "dispatched"
        pdf_path = config.home / letter.pdf_path
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    assert "Rückforderung" in text and "300,00 €" in text and f"{total:.2f}".replace(".", ",") in text
    assert "Verwaltungsgericht Osnabrück" in text and "Widerspruch" not in text and file_number in text
    # 217 days of interest: from 20.05. to the day before the payment date, and the letter says so
    flat = " ".join(text.split())
    assert "vom 20.05.2026 an" in flat and "bis zum 22.12.2026" in flat
    import docx

    with db.session() as s:
        docx_path = config.storage / s.scalar(select(Letter.docx_path).where(Letter.kind == "reclaim"))
    words = "\n".join(p.text for p in docx.Document(str(docx_path)).paragraphs)
    assert "Rückforderung" in words and "Klage" in words and "Widerspruch" not in words
    # a part payment leaves the claim open; the rest closes the case
    first = D("100.00")
    _import(db, tmp_path, statement(FUND_IBAN, [N(f"{first:.2f}", True, [T(f"{first:.2f}", None, "Verein", "DE02120300000000202051",
                                                                      f"Rueckzahlung {file_number}")])], stmt_id="S-R1"), "r1.xml")
    with db.session() as s:
        assert s.get(Application, case_id).state == "reclaim"
        assert reclaims.outstanding(s, case_id) == total - first
    rest = f"{total - first:.2f}"
    _import(db, tmp_path, statement(FUND_IBAN, [N(rest, True, [T(rest, None, "Verein", "DE02120300000000202051",
                                                                 f"{file_number} Rest")])], stmt_id="S-R2"), "r2.xml")
    with db.session() as s:
        case = s.get(Application, case_id)
        assert case.state == "closed" and s.scalar(select(Reclaim)).settled_at is not None
        b = ledger.balances(s, world.fund_id)
        assert b.receivable == 0 and b.refunded == total and b.available == available_before + total
        assert fund_service.reconciliation_problems(s, world.fund_id) == []


def test_overdue_proof_reclaims_everything_and_finance_may_waive_the_rest(db, world, tmp_path):
    case_id = _paid_case(db, world, tmp_path)
    staff, finance, finance2 = (actor_for(db, world.users[k]) for k in ("staff", "finance", "finance2"))
    with db.session() as s:
        cases.transition(s, s.get(Application, case_id), "request_report", Actor.system("test"))
    with db.session() as s:
        r = reclaims.start(s, staff, case_id, amount=D("1500.00"), waive_interest=True, today=date(2026, 11, 23),
                           reasons="Trotz drei Erinnerungen kein Verwendungsnachweis.")
        assert r.interest == 0
    with db.session() as s:
        with pytest.raises(Invalid):
            reclaims.settle_by_hand(s, finance, case_id, "")
        with pytest.raises(Forbidden):
            reclaims.settle_by_hand(s, staff, case_id, "Erlass")
    with db.session() as s:
        reclaims.settle_by_hand(s, finance2, case_id, "Verein aufgelöst, Forderung uneinbringlich (Beschluss 12/2026).")
    with db.session() as s:
        assert s.get(Application, case_id).state == "closed"
        assert ledger.balances(s, world.fund_id).receivable == 0
        assert fund_service.reconciliation_problems(s, world.fund_id) == []


def test_proof_attachments_are_the_proofs_own(db, world, tmp_path):
    import io

    case_id = _paid_case(db, world, tmp_path)
    applicant = actor_for(db, world.users["applicant_a"])
    from grants.services import uploads

    with db.session() as s:
        case, p = proofs.open_proof(s, applicant, case_id)
        uploads.store(s, applicant, tmp_path, organisation_id=case.organisation_id, application_id=case.id,
                      kind="proof_photo", filename="fest.png", stream=io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 100))
        assert [a.filename for a in proofs.attachments(s, case)] == ["fest.png"]
        assert s.scalar(select(func.count()).select_from(Attachment)) == 1
