"""The receipt (Eingangsbestätigung): a PDF in the portal and by mail, once per case."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.documents import render
from grants.models import Application, Letter, Organisation
from grants.services import audit, file_numbers, messenger
from grants.services.actor import Actor
from grants.services.rows import get_or_404

RECEIPT_FLOW = "send_receipt"


def receipt_context(db: Session, case_id: int) -> dict | None:
    """What the receipt says; None if it exists already or the case has no file number."""
    case = db.get(Application, case_id)
    if case is None or not case.file_number:
        return None
    if db.scalar(select(Letter.id).where(Letter.application_id == case_id, Letter.kind == "receipt")) is not None:
        return None
    org = db.get_one(Organisation, case.organisation_id)
    period = "–"
    if case.project_start and case.project_end:
        period = f"{render.german_date(case.project_start)} – {render.german_date(case.project_end)}"
    submitted = clock.local_date(case.submitted_at or clock.now())
    return {
        "recipient": [x for x in (org.name, org.street, f"{org.postcode} {org.city}".strip()) if x],
        "today": render.german_date(clock.today()), "file_number": case.file_number,
        "submitted_on": render.german_date(submitted), "title": case.title, "quarter": case.quarter,
        "period": period, "requested": render.euro(case.requested),
    }


def store_receipt(db: Session, home: Path, case_id: int, pdf: bytes, docx: bytes = b"") -> Letter | None:
    """Keep the rendered receipt and mail it; a second call for the same case does nothing."""
    if db.scalar(select(Letter.id).where(Letter.application_id == case_id, Letter.kind == "receipt")) is not None:
        return None
    case = get_or_404(db, Application, case_id, "Diesen Antrag gibt es nicht.")
    rel = Path("letters") / file_numbers.of(case) / "eingangsbestaetigung-v1.pdf"
    docx_rel = rel.with_suffix(".docx")
    for path, data in ((rel, pdf), (docx_rel, docx)):
        target = home / path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    letter = Letter(application_id=case.id, kind="receipt", version=1, state="dispatched", pdf_path=str(rel),
                    docx_path=str(docx_rel) if docx else "", pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                    docx_sha256=hashlib.sha256(docx).hexdigest() if docx else "",
                    released_at=clock.now(), dispatched_at=clock.now())
    db.add(letter)
    db.flush()
    recipients = messenger.organisation_recipients(db, case.organisation_id)
    for email in recipients:
        messenger.send(db, key=f"receipt:{case.id}:{email}", to=email, template="receipt", application_id=case.id,
                       subject=f"Eingangsbestätigung {case.file_number} – Dein Quartier und du",
                       body=(f"Guten Tag,\n\nIhr Antrag „{case.title}“ ist bei uns eingegangen. Ihr Aktenzeichen: "
                             f"{case.file_number}.\nDie Eingangsbestätigung finden Sie im Anhang und im Antragsportal.\n\n"
                             "Stadt Osnabrück – Fachdienst Integration"),
                       attachments=[{"path": str(rel), "filename": f"Eingangsbestaetigung-{case.file_number}.pdf",
                                     "mime": "application/pdf"}])
    audit.record(db, Actor.system("receipt"), "receipt_sent", obj=letter, application_id=case.id)
    return letter
