"""Retention (docs/domain.md, "Retention"): drafts never submitted are deleted after the
configured months; finished cases are anonymised once the retention period for accounting
records has run out, keeping the figures (amounts, dates, district, counts) for statistics.

The periods are per program (rules "draft_retention_months", "retention_years"). Files to delete
are returned, not deleted here: the caller removes them after the commit."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from grants import clock
from grants.domain.deadlines import add_months
from grants.domain.workflow import State
from grants.models import (
    Application,
    Attachment,
    AuditEvent,
    BankEntry,
    Base,
    Comment,
    CostItem,
    Decision,
    LedgerEntry,
    Letter,
    Message,
    OtherFunding,
    Program,
    ProofOfUse,
    Receipt,
)
from grants.services import audit
from grants.services.actor import Actor

# A case is finished when nothing more can happen to it; a rejection ends with its letter.
FINISHED = (State.CLOSED.value, State.WITHDRAWN.value, State.INELIGIBLE.value)
ANONYMOUS = "anonymisiert"


def _midnight(d: date) -> datetime:
    """The start of a Berlin day, as the UTC moment the database compares with."""
    return clock.at(d, time.min)


def anonymise_after(finished_on: date, years: int) -> date:
    """Accounting records are kept `years` full calendar years after the year the case ended
    (§ 147 Abs. 4 AO counts from the end of that year)."""
    return date(finished_on.year + years + 1, 1, 1)


def run(db: Session, uploads: Path, home: Path, today: date) -> dict:
    system = Actor.system("retention")
    files: list[Path] = []
    deleted = anonymised = 0
    for program in db.scalars(select(Program)):
        rules = program.typed_rules
        months, years = rules.draft_retention_months, rules.retention_years
        cutoff = _midnight(add_months(today, -months))
        drafts = db.scalars(select(Application).where(Application.program_id == program.id,
                                                      Application.state == State.DRAFT.value,
                                                      Application.updated_at < cutoff)).all()
        for case in drafts:
            files += _delete_draft(db, uploads, case)
            audit.record(db, system, "draft_deleted", data={"organisation_id": case.organisation_id,
                                                            "created_at": case.created_at.isoformat()})
            deleted += 1
        # the oldest possible end date for anonymisation today, as a datetime for the index
        latest_end = _midnight(date(today.year - years, 1, 1))
        finished = db.scalars(select(Application).where(
            Application.program_id == program.id, Application.anonymised_at.is_(None),
            or_(Application.state.in_(FINISHED), Application.state == State.LETTER_SENT.value),
            Application.state_changed_at < latest_end)).all()
        for case in finished:
            if case.state == State.LETTER_SENT.value and not _rejected(db, case):
                continue              # an approved grant still running is never "finished"
            ended = clock.local_date(case.closed_at or case.state_changed_at)
            if anonymise_after(ended, years) > today:
                continue
            files += _anonymise(db, uploads, home, case)
            audit.record(db, system, "case_anonymised", application_id=case.id, data={"ended": ended.isoformat()})
            anonymised += 1
    return {"drafts_deleted": deleted, "anonymised": anonymised, "files": files}


def _rejected(db: Session, case: Application) -> bool:
    kind = db.scalar(select(Decision.kind).where(Decision.application_id == case.id)
                     .order_by(Decision.decided_at.desc(), Decision.id.desc()).limit(1))
    return kind == "reject"


def _attachment_files(db: Session, uploads: Path, case: Application) -> list[Path]:
    return [uploads / key for key in db.scalars(select(Attachment.storage_key)
                                                .where(Attachment.application_id == case.id))]


def _delete_draft(db: Session, uploads: Path, case: Application) -> list[Path]:
    """Every row that belongs to the draft goes, whatever table it is in."""
    files = _attachment_files(db, uploads, case)
    for table in reversed(Base.metadata.sorted_tables):
        column = table.c.get("application_id")
        if column is not None and table.name != "application":
            db.execute(delete(table).where(column == case.id))
    db.delete(case)
    db.flush()
    return files


def _anonymise(db: Session, uploads: Path, home: Path, case: Application) -> list[Path]:
    files = _attachment_files(db, uploads, case)
    files += [home / p for row in db.execute(select(Letter.pdf_path, Letter.docx_path)
                                             .where(Letter.application_id == case.id)) for p in row if p]
    files += [home / p for p in db.scalars(select(Message.eml_path).where(Message.application_id == case.id)) if p]
    case.title, case.description, case.aims, case.target_groups, case.partners = ANONYMOUS, "", "", "", ""
    case.answers = {}
    for i, item in enumerate(db.scalars(select(CostItem).where(CostItem.application_id == case.id)), 1):
        item.description = f"Position {i}"
    for i, funder in enumerate(db.scalars(select(OtherFunding).where(OtherFunding.application_id == case.id)), 1):
        funder.funder = f"Geldgeber {i}"
    for model in (Attachment, Comment, Letter, Message):
        db.execute(delete(model).where(model.application_id == case.id))
    proof = db.scalar(select(ProofOfUse).where(ProofOfUse.application_id == case.id))
    if proof is not None:
        proof.report, proof.answers, proof.check_note = "", {}, ""
        db.execute(update(Receipt).where(Receipt.proof_id == proof.id).values(payee=ANONYMOUS, purpose=""))
    db.execute(update(Decision).where(Decision.application_id == case.id).values(reasons=""))
    db.execute(update(AuditEvent).where(AuditEvent.application_id == case.id).values(reason="", data={}))
    db.execute(update(BankEntry).where(BankEntry.application_id == case.id)
               .values(counterparty_name=ANONYMOUS, counterparty_iban="", remittance=""))
    # the one change a ledger row ever sees: names and texts go, amounts and dates stay (Art. 17 DSGVO
    # after the retention period; the figures the accounts need are untouched)
    db.execute(update(LedgerEntry).where(LedgerEntry.application_id == case.id).values(donor="", purpose=""))
    case.anonymised_at = clock.now()
    db.flush()
    return files
