"""On submit the receipt flow runs: a PDF/A with the case's data, kept once, mailed with the PDF."""

import email
import email.policy
import subprocess
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from grants import runtime
from grants.engine.runner import JobRunner
from grants.models import FlowJob, Letter, Message, Program
from grants.services import applications
from tests.factories import actor_for


def _submitted(db, world, title="Sprachcafé <script>x</script>"):
    applicant = actor_for(db, world.users["applicant_a"])
    with db.session() as s:
        case = applications.create_draft(s, applicant, s.get(Program, world.program_id), world.org_ids["a"],
                                         title=title, quarter="Schinkel", requested=Decimal("1250.00"))
        applications.submit(s, applicant, case)
        return case.id, case.file_number


def test_submit_sends_a_receipt_once(prefect_harness, config, db, world):
    case_id, file_number = _submitted(db, world)
    runtime.install(config, db)
    try:
        runner = JobRunner(db)
        runner.drain(timeout=180)
        with db.session() as s:   # run the flow again: nothing new
            job = s.scalar(select(FlowJob).where(FlowJob.flow == "send_receipt"))
            job.state = "queued"
        runner.drain(timeout=180)
    finally:
        runtime.reset()
    with db.session() as s:
        letters = s.scalars(select(Letter).where(Letter.application_id == case_id)).all()
        assert [(x.kind, x.version, x.state) for x in letters] == [("receipt", 1, "dispatched")]
        mails = s.scalars(select(Message).where(Message.template == "receipt")).all()
        assert [m.recipient for m in mails] == ["applicant_a@test.example"] and mails[0].state == "sent"
    pdf_path = config.home / letters[0].pdf_path
    reader = PdfReader(str(pdf_path))
    text = reader.pages[0].extract_text()
    assert file_number in text and "Eingangsbestätigung" in text and "1.250,00 €" in text
    assert "<script>x</script>" in text                       # shown as text, not markup
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "pdfaid:part" in xmp and "pdfaid:conformance" in xmp      # PDF/A identification
    assert reader.trailer["/Root"]["/Lang"] == "de"
    assert "data.json" in reader.attachments
    fonts = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, text=True).stdout.splitlines()[2:]
    assert fonts and all("Letter-Sans" in f for f in fonts)          # the shipped fonts, nothing from the machine
    assert all(f.split()[-5] == "yes" for f in fonts)                 # embedded
    import docx as docx_lib

    d = docx_lib.Document(str(config.home / letters[0].docx_path))
    assert file_number in " ".join(p.text for p in d.paragraphs + [c.paragraphs[0] for t in d.tables for r in t.rows for c in r.cells])
    assert "Eingangsbestätigung" in " ".join(p.text for p in d.paragraphs)
    eml = sorted(config.outbox_dir.glob("*receipt.eml"))
    msg = email.message_from_bytes(eml[0].read_bytes(), policy=email.policy.default)
    parts = list(msg.iter_attachments())
    assert parts[0].get_filename() == f"Eingangsbestaetigung-{file_number}.pdf"
    assert parts[0].get_content().startswith(b"%PDF")
