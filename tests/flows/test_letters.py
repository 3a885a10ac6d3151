"""Decision letters read back from PDF and DOCX: the contents the law requires (docs/domain.md), the right legal
remedy (Klage, never Widerspruch), fonts and PDF/A, versions, hold and release, hostile text."""

import re
import subprocess
from datetime import timedelta
from decimal import Decimal as D

import docx
from pypdf import PdfReader
from sqlalchemy import select

from grants import clock, runtime
from grants.documents import decision_letter
from grants.domain.deadlines import add_months, report_due
from grants.engine.runner import JobRunner
from grants.models import Application, AuditEvent, Decision, Letter, Message, Organisation, Program
from grants.services import applications, cases, letters
from grants.services.actor import Actor
from tests.factories import actor_for

SYSTEM = Actor.system("test")
# the last day of the month three months ahead: the project starts in 30 days, whatever today is
PROJECT_END = add_months((clock.today() + timedelta(days=120)).replace(day=1), 1) - timedelta(days=1)


def _decided(db, world, kind="approve", amount="1200.00", title="Sprachcafé", reasons=""):
    applicant = actor_for(db, world.users["applicant_a"])
    start = clock.today() + timedelta(days=30)
    with db.session() as s:
        org = s.get(Organisation, world.org_ids["a"])
        org.street, org.postcode, org.city = "Bremer Straße 12", "49084", "Osnabrück"
        case = applications.create_draft(s, applicant, s.get(Program, world.program_id), world.org_ids["a"],
                                          title=title, quarter="Schinkel", requested=D("1500.00"),
                                          own_funds=D("0"), cost_items=[("Honorar", D("1000.00")), ("Miete", D("500.00"))],
                                          project_start=start, project_end=PROJECT_END)
        applications.submit(s, applicant, case)
        for action in ("start_screening", "mark_ready", "put_on_agenda"):
            cases.transition(s, case, action, SYSTEM)
        s.add(Decision(application_id=case.id, kind=kind, amount=D(amount) if kind != "reject" else None,
                       reasons=reasons, votes_yes=4))
        cases.transition(s, case, kind, SYSTEM, reason=reasons or "x")
        from grants.services import jobs
        jobs.enqueue(s, "decision_letters", f"decision_letters:case{case.id}", case_ids=[case.id])
        return case.id, case.file_number


def _drain(config, db):
    runtime.install(config, db)
    try:
        JobRunner(db).drain(timeout=180)
    finally:
        runtime.reset()


def _texts(config, letter):
    pdf = config.home / letter.pdf_path
    reader = PdfReader(str(pdf))
    pdf_text = "\n".join(p.extract_text() for p in reader.pages)
    d = docx.Document(str(config.home / letter.docx_path))
    docx_text = "\n".join(p.text for p in d.paragraphs) + "\n" + "\n".join(
        c.text for t in d.tables for r in t.rows for c in r.cells)
    return reader, pdf_text, docx_text, d


def test_partial_approval_letter_has_everything_and_goes_out(prefect_harness, config, db, world):
    case_id, fn = _decided(db, world, "approve_partly", "1200.00", reasons="Die Miete wird nicht gefördert.")
    _drain(config, db)
    with db.session() as s:
        letter = s.scalar(select(Letter).where(Letter.application_id == case_id, Letter.kind != "receipt"))
        assert (letter.kind, letter.version, letter.state) == ("partial_approval", 1, "dispatched")
        assert letter.dispatched_at is not None and len(letter.pdf_sha256) == 64
        assert s.get(Application, case_id).state == "letter_sent"
        assert s.scalar(select(Message).where(Message.template == "letter")).attachments[0]["mime"] == "application/pdf"
    reader, pdf_text, docx_text, d = _texts(config, letter)
    for text in (pdf_text, docx_text):
        flat = " ".join(text.split())
        assert fn in flat and "Zuwendungsbescheid" in flat
        assert "1.200,00 €" in flat and "eintausendzweihundert Euro" in flat and "Festbetragsfinanzierung" in flat
        assert "Honorar" in flat and "1.000,00 €" in flat                           # table of eligible costs
        assert "Nebenbestimmungen" in flat and "Auszahlung" in flat
        assert report_due(PROJECT_END).strftime("%d.%m.%Y") in flat                  # proof of use: end + 6 months
        assert "Die Miete wird nicht gefördert." in flat
        assert "innerhalb eines Monats nach Bekanntgabe Klage beim Verwaltungsgericht Osnabrück" in flat
        assert "Widerspruch" not in flat
    assert "Seite 1 von" in pdf_text and len(reader.pages) >= 2
    assert reader.trailer["/Root"]["/Lang"] == "de" and "data.json" in reader.attachments
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "pdfaid:part" in xmp
    fonts = subprocess.run(["pdffonts", str(config.home / letter.pdf_path)], capture_output=True, text=True).stdout
    assert all("Letter-Sans" in f and f.split()[-5] == "yes" for f in fonts.splitlines()[2:])
    assert d.core_properties.language == "de-DE"
    # DIN 5008 window (20 mm from the left, 85 mm wide, from 45 mm down): the return address in
    # its top line, whole, inside the window; no hidden text before the letterhead
    mm = 72 / 25.4
    bbox = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(config.home / letter.pdf_path), "-"],
                          capture_output=True, text=True).stdout
    words = [(float(x0), float(y0), float(x1), float(y1), w) for x0, y0, x1, y1, w in
             re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', bbox)]
    back = [w for w in words if 45 * mm <= w[1] <= 50 * mm]
    assert " ".join(w[4] for w in back) == "Stadt Osnabrück · Natruper-Tor-Wall 5 · 49076 Osnabrück"
    assert all(20 * mm - 1 <= w[0] and w[2] <= 105 * mm for w in back)
    assert words[0][4] == "Stadt" and words[0][1] > 10 * mm


def test_rejection_states_the_reasons(prefect_harness, config, db, world):
    case_id, fn = _decided(db, world, "reject", reasons="Eine Reise nach Berlin ist keine Begegnung im Quartier.")
    _drain(config, db)
    with db.session() as s:
        letter = s.scalar(select(Letter).where(Letter.application_id == case_id, Letter.kind != "receipt"))
    _, pdf_text, docx_text, _ = _texts(config, letter)
    for text in (pdf_text, docx_text):
        flat = " ".join(text.split())
        assert "Ablehnung" in flat and "Begründung" in flat and "keine Begegnung im Quartier" in flat
        assert "Klage" in flat and "Widerspruch" not in flat


def test_hostile_text_is_harmless_and_corrections_are_new_versions(prefect_harness, config, db, world):
    evil = "<img src='file:///etc/passwd'> <script>alert(1)</script> " + "Donaudampfschifffahrt" * 12 + " مرحبا"
    case_id, fn = _decided(db, world, "approve", "1500.00", title=evil)
    with db.session() as s:
        s.get(Program, world.program_id).rules = {"hold_letters": True}
    _drain(config, db)
    with db.session() as s:
        held = s.scalar(select(Letter).where(Letter.application_id == case_id, Letter.kind != "receipt"))
        assert held.state == "held" and s.get(Application, case_id).state == "approved"
        assert s.scalar(select(Message).where(Message.template == "letter")) is None
    _, pdf_text, _, _ = _texts(config, held)
    flat = " ".join(pdf_text.split())
    assert "root:" not in pdf_text                           # /etc/passwd was not fetched
    assert "alert(1)" in flat and "<script>" in flat.replace(" ", "")   # markup shown as text
    staff = actor_for(db, world.users["staff"])
    with db.session() as s:
        letters.release(s, staff, held.id)
    with db.session() as s:
        assert s.get(Letter, held.id).state == "dispatched" and s.get(Application, case_id).state == "letter_sent"
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "letter_released")).actor == "staff@test.example"
        kind, data = letters.context(s, case_id)
    pdf, docx_bytes = decision_letter.render_letter(kind, data)
    with db.session() as s:
        assert letters.store(s, config.home, case_id, kind, pdf, docx_bytes, hold=False) is None   # no silent duplicate
        v2 = letters.store(s, config.home, case_id, kind, pdf, docx_bytes, hold=True, correction=True)
        assert v2.version == 2
    with db.session() as s:
        versions = s.scalars(select(Letter).where(Letter.application_id == case_id, Letter.kind != "receipt").order_by(Letter.version)).all()
        assert [v.version for v in versions] == [1, 2]
        assert (config.home / versions[0].pdf_path).exists() and (config.home / versions[1].pdf_path).exists()


def test_a_control_character_stored_before_the_filter_never_stops_a_letter(prefect_harness, config, db, world):
    """Rows written before the input filter (or by hand) may hold control characters: the Bescheid
    is written without them, and the letters of the other cases of the batch are written too."""
    from grants.services import jobs

    ids = [_decided(db, world, "approve", "1000.00", title=t)[0]
           for t in ("Erstes Projekt", "Sprach\x01café\u202e", "Drittes Projekt")]
    with db.session() as s:
        jobs.enqueue(s, "decision_letters", "decision_letters:batch", case_ids=ids)
    _drain(config, db)
    with db.session() as s:
        made = {letter.application_id: letter for letter in
                s.scalars(select(Letter).where(Letter.kind == "approval"))}
    assert set(made) == set(ids)
    _, pdf_text, docx_text, _ = _texts(config, made[ids[1]])
    assert "Sprachcafé" in " ".join(pdf_text.split()) and "Sprachcafé" in docx_text and "\x01" not in docx_text


def test_one_letter_that_cannot_be_made_does_not_hold_up_the_others(prefect_harness, config, db, world, monkeypatch):
    from grants.documents import batch
    from grants.flows import committee as committee_flows
    from grants.models import FlowJob
    from grants.services import jobs

    real = batch.render_letter

    def fragile(kind, data):
        if data["title"] == "Kaputt":
            raise RuntimeError("the renderer broke on this one")
        return real(kind, data)

    monkeypatch.setattr(batch, "render_letter", fragile)
    monkeypatch.setattr(committee_flows, "render_letter", fragile)      # its own job fails too, and waits
    ids = [_decided(db, world, "approve", "1000.00", title=t)[0] for t in ("Eins", "Kaputt", "Drei")]
    with db.session() as s:
        jobs.enqueue(s, "decision_letters", "decision_letters:fragile", case_ids=ids)
        for case_id in ids:          # only the batch of the three: _decided queued one for each
            s.delete(s.scalar(select(FlowJob).where(FlowJob.key == f"decision_letters:case{case_id}")))
    _drain(config, db)
    with db.session() as s:
        made = set(s.scalars(select(Letter.application_id).where(Letter.kind == "approval")))
        assert made == {ids[0], ids[2]}
        batch_job = s.scalar(select(FlowJob).where(FlowJob.key == "decision_letters:fragile"))
        assert batch_job.state == "done" and batch_job.result["failed"] == [ids[1]]
        own = s.scalar(select(FlowJob).where(FlowJob.key == f"decision_letter:{ids[1]}"))
        assert own.flow == "decision_letter" and own.parameters == {"case_id": ids[1]}
        assert (own.state, own.attempts) == ("queued", 1) and "broke" in own.error    # tried again later
