"""Decision letters (Bescheide): rendered as PDF/A and DOCX from the same template, kept with a
SHA-256 and a version (a correction is a new version, the old one stays), held for review or
released, delivered in the portal and announced by mail; the dispatch date is recorded."""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants import clock
from grants.documents import render
from grants.documents.decision_letter import TITLE_OF
from grants.domain import deadlines
from grants.domain.roles import Perm
from grants.domain.words import euro_words
from grants.domain.workflow import DECIDED
from grants.models import Application, Decision, Letter, Organisation, Program
from grants.services import audit, cases, file_numbers, messenger
from grants.services.actor import Actor
from grants.services.errors import Conflict, Invalid, NotFound
from grants.services.payouts import instalments
from grants.services.rows import get_or_404

LETTER_FLOW = "decision_letter"
KIND_OF = {"approve": "approval", "approve_partly": "partial_approval", "reject": "rejection"}


def report_due(case: Application, program: Program) -> date | None:
    if case.project_end is None:
        return None
    return deadlines.report_due(case.project_end, program.typed_rules.report_months)


def context(db: Session, case_id: int) -> tuple[str, dict] | None:
    """(letter kind, template data) for the case's latest decision; None if there is no letter to write."""
    case = db.get(Application, case_id)
    decision = db.scalar(select(Decision).where(Decision.application_id == case_id)
                         .order_by(Decision.decided_at.desc(), Decision.id.desc()).limit(1))
    if case is None or decision is None or decision.kind not in KIND_OF:
        return None
    kind = KIND_OF[decision.kind]
    org = db.get_one(Organisation, case.organisation_id)
    program = db.get_one(Program, case.program_id)
    fmt = render.german_date
    amount = decision.amount
    due = report_due(case, program)
    data = {
        "recipient": [x for x in (org.name, org.street, f"{org.postcode} {org.city}".strip()) if x],
        "today": fmt(clock.today()), "file_number": case.file_number, "title": case.title, "quarter": case.quarter,
        "submitted_on": fmt(clock.local_date(case.submitted_at or clock.now())),
        "decided_on": fmt(clock.local_date(decision.decided_at)),
        "requested": render.euro(case.requested), "reasons": decision.reasons or "",
        "partial": kind == "partial_approval",
        "amount": render.euro(amount) if amount is not None else "", "amount_words": euro_words(amount) if amount else "",
        "costs": [(c.description, render.euro(c.amount)) for c in case.cost_items],
        "costs_total": render.euro(sum((c.amount for c in case.cost_items), 0)),
        "period": (f"{fmt(case.project_start)} bis {fmt(case.project_end)}" if case.project_start and case.project_end else "–"),
        "iban_masked": f"{org.iban[:4]} … {org.iban[-4:]}" if org.iban else "–", "account_holder": org.account_holder or "",
        "report_due": fmt(due) if due else "–",
        "instalments": _instalments(amount, program),
    }
    return kind, data


def _instalments(amount, program) -> list[str]:
    """The parts the grant is paid in, as the letter names them ([] for one transfer)."""

    shares = program.typed_rules.instalments
    if amount is None or len(shares) < 2:
        return []
    try:
        return [render.euro(part) for part in instalments(amount, shares)]
    except Invalid:  # a misconfigured split: refused when payouts are planned, one amount here
        return []


def _write(target: Path, data: bytes, *, orphan: bool = False) -> str:
    """`orphan`: the caller knows no letter row names `target`, so a file there is what a run
    killed between writing it and committing left behind, and may be replaced."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not orphan:
        raise Conflict("Ein Schreiben wird nie überschrieben.")
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return hashlib.sha256(data).hexdigest()


def store(db: Session, home: Path, case_id: int, kind: str, pdf: bytes, docx: bytes, *, hold: bool,
          correction: bool = False) -> Letter | None:
    """Keep a new version; the first letter of a kind is written once (flow re-runs), later
    versions only as explicit corrections."""
    case = get_or_404(db, Application, case_id, "Diesen Antrag gibt es nicht.")
    latest = db.scalar(select(func.max(Letter.version)).where(Letter.application_id == case_id, Letter.kind == kind))
    if latest and not correction:
        return None
    version = (latest or 0) + 1
    base = Path("letters") / file_numbers.of(case)
    pdf_rel, docx_rel = base / f"{kind}-v{version}.pdf", base / f"{kind}-v{version}.docx"
    letter = Letter(application_id=case.id, kind=kind, version=version, state="held" if hold else "released",
                    pdf_path=str(pdf_rel), docx_path=str(docx_rel),
                    pdf_sha256=_write(home / pdf_rel, pdf, orphan=True),      # no row has this version yet
                    docx_sha256=_write(home / docx_rel, docx, orphan=True))
    db.add(letter)
    db.flush()
    audit.record(db, Actor.system("letters"), "letter_created", obj=letter, application_id=case.id,
                 data={"kind": kind, "version": version, "held": hold, "sha256": letter.pdf_sha256})
    if not hold:
        dispatch(db, letter)
    return letter


def dispatch(db: Session, letter: Letter) -> None:
    """Deliver in the portal, announce by mail (with the PDF), record the date the deadline runs from."""

    case = db.get_one(Application, letter.application_id)
    letter.state, letter.dispatched_at = "dispatched", clock.now()
    if letter.released_at is None:
        letter.released_at = letter.dispatched_at
    name = f"{TITLE_OF.get(letter.kind, 'Schreiben')}-{case.file_number}-v{letter.version}.pdf"
    for email in messenger.organisation_recipients(db, case.organisation_id):
        messenger.send(db, key=f"letter:{letter.id}:{email}", to=email, template="letter", application_id=case.id,
                       subject=f"{TITLE_OF.get(letter.kind, 'Schreiben')} zu Ihrem Antrag {case.file_number}",
                       body=("Guten Tag,\n\nim Antragsportal liegt ein neues Schreiben für Sie: "
                             f"{TITLE_OF.get(letter.kind, 'Schreiben')} zum Aktenzeichen {case.file_number}. "
                             "Sie finden es auch im Anhang.\n\nStadt Osnabrück – Fachdienst Integration"),
                       attachments=[{"path": letter.pdf_path, "filename": name, "mime": "application/pdf"}])
    if case.state in {s.value for s in DECIDED}:
        cases.transition(db, case, "send_letter", Actor.system("letters"), data={"letter": letter.id})
    audit.record(db, Actor.system("letters"), "letter_dispatched", obj=letter, application_id=case.id)


def release(db: Session, actor: Actor, letter_id: int) -> Letter:

    actor.require(Perm.MANAGE_LETTERS)
    letter = db.get(Letter, letter_id)
    if letter is None:
        raise NotFound("Dieses Schreiben gibt es nicht.")
    if letter.state != "held":
        raise Conflict("Dieses Schreiben ist schon freigegeben.")
    letter.released_by_id, letter.released_at = actor.user_id, clock.now()
    audit.record(db, actor, "letter_released", obj=letter, application_id=letter.application_id)
    dispatch(db, letter)
    return letter


def hold_for_review(program: Program) -> bool:
    return program.typed_rules.hold_letters
