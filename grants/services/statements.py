"""Importing bank statements and reconciling them with the fund, all or nothing per file.

A file (XML, or a ZIP of XML files) is read as a stream, a large one in a second process while
this one books (statement_reader); everything it books is written in one transaction, so a
refused or broken file leaves no trace. A statement imported before is recognised by its account
and statement id and changes nothing."""

from __future__ import annotations

import gc
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.banking.camt import StatementError, StatementInfo
from grants.banking.camt_entries import Memo, entry
from grants.domain import reconcile
from grants.domain.roles import Perm
from grants.domain.workflow import State
from grants.models import Application, BankStatement, Fund, Payout
from grants.services import audit, cases, jobs, ledger, messenger, reclaims
from grants.services.actor import Actor
from grants.services.errors import Invalid
from grants.services.statement_booking import Booking
from grants.services.statement_reader import MAX_BYTES, Rows


@dataclass
class FileResult:
    file: str
    entries: int = 0
    matched: int = 0
    unmatched: int = 0
    already_imported: int = 0
    ignored: int = 0
    statements: int = 0
    error: str | None = None

    def as_dict(self) -> dict:
        d = {"file": self.file, "entries": self.entries, "matched": self.matched, "unmatched": self.unmatched,
             "already_imported": self.already_imported, "ignored": self.ignored}
        if self.error:
            d["error"] = self.error
        return d


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _known(db: Session) -> reconcile.Known:
    known = reconcile.Known()
    for p in db.scalars(select(Payout)):
        known.payouts_by_e2e[p.end_to_end_id] = reconcile.PayoutRef(
            p.id, p.application_id, p.end_to_end_id, p.amount, p.iban, p.state,
            p.sent_at.date() if p.sent_at else None)
    known.file_numbers = {fn: case_id for fn, case_id in db.execute(
        select(Application.file_number, Application.id).where(Application.file_number.is_not(None))) if fn is not None}
    return known


def import_file(db: Session, path: Path, actor: Actor, *, max_bytes: int = MAX_BYTES,
                display_name: str | None = None, separate: bool | None = None) -> FileResult:
    """Import one file inside the caller's transaction. Raises StatementError (nothing booked).
    `separate`: read in a second process (default: for large files)."""
    path = Path(path)
    result = FileResult(file=display_name or str(path))
    follow_ups: list[tuple[str, int, str]] = []   # (action, application id, reason)
    # the same statement uploaded twice at once must not book twice: the second import waits,
    # then finds the statement known and skips it
    ledger.serialise(db)
    # the reader starts first: it parses while this process hashes the file and asks the database
    with Rows(path, max_bytes, separate=separate) as rows, _no_cycle_collection():
        digest = _sha256(path)
        funds = {f.iban.replace(" ", "").upper(): f for f in db.scalars(select(Fund))}
        booking = Booking(db, _known(db), follow_ups)
        seen_refs: set[tuple[str, str]] = set()
        skipping = True
        memo = Memo()
        for chunk in rows:
            for item in chunk:
                if item.__class__ is tuple:
                    if item[0] is None:               # how to read the rows of a new shape of entry
                        memo.learn(item)
                        continue
                    # checked also when its statement is skipped: a bad file is refused whole, always
                    checked = entry(item, memo)
                    result.entries += 1
                    if skipping:
                        result.already_imported += 1
                    else:
                        booking.add(checked)
                    continue
                booking.flush()
                statement = _new_statement(db, item.member, item.info, path, funds, seen_refs, actor)
                skipping = statement is None
                if statement is not None:
                    statement.file_sha256 = digest
                    result.statements += 1
                    booking.start(statement)
        booking.flush()
    result.matched, result.unmatched, result.ignored = booking.matched, booking.unmatched, booking.ignored
    for action, application_id, reason in follow_ups:
        follow_money(db, action, application_id, reason)
    if result.statements:
        audit.record(db, actor, "statement_imported", data=result.as_dict())
    return result


@contextmanager
def _no_cycle_collection():
    """A large statement makes millions of small tuples and lists and no reference cycles; the
    collector would walk them again and again for nothing (a tenth of the import's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _new_statement(db: Session, member: str, info: StatementInfo, path: Path, funds: dict,
                   seen_refs: set, actor: Actor) -> BankStatement | None:
    """The row of a statement about to be booked; None when it was imported before."""
    fund = funds.get(info.account_iban)
    if fund is None:
        where = f"{member}: " if member != path.name else ""
        raise StatementError(f"{where}account {info.account_iban} is not a fund account of this system")
    key = (info.account_iban, info.ref)
    exists = db.scalar(select(BankStatement.id).where(BankStatement.account_iban == info.account_iban,
                                                      BankStatement.statement_ref == info.ref))
    if exists is not None or key in seen_refs:
        return None
    seen_refs.add(key)
    statement = _statement_row(info, fund, member, actor)
    db.add(statement)
    db.flush()
    return statement


def _statement_row(info: StatementInfo, fund: Fund, member: str, actor: Actor) -> BankStatement:
    opening, closing = info.opening, info.closing
    return BankStatement(fund_id=fund.id, account_iban=info.account_iban, statement_ref=info.ref[:140],
                         message_id=info.message_id[:140], file_sha256="", filename=member[:255],
                         created_on=info.created, from_date=info.from_date, to_date=info.to_date,
                         opening_balance=opening[0] if opening else None,
                         opening_negative=bool(opening and opening[1]),
                         closing_balance=closing[0] if closing else None,
                         closing_negative=bool(closing and closing[1]),
                         entry_count=0, imported_by_id=actor.user_id)


def follow_money(db: Session, action: str, application_id: int, reason: str) -> None:
    """The case follows its money: letter_sent -> paid when booked; back when returned."""
    case = db.get_one(Application, application_id)
    system = Actor.system("reconciliation")
    if action == "pay" and case.state == State.LETTER_SENT.value:
        cases.transition(db, case, "pay", system)
    elif action == "payout_returned":
        still_booked = db.scalar(select(Payout.id).where(Payout.application_id == case.id, Payout.state == "booked"))
        if case.state == State.PAID.value and still_booked is None:
            cases.transition(db, case, "payout_returned", system, reason=f"Rückläufer, Grund {reason}")
        else:
            # later states (the project ran, the proof is due) stay where they are; the money is
            # still owed and payouts.plan pays it again
            audit.record(db, system, "payout_returned", obj=case, application_id=case.id,
                         reason=f"Rückläufer, Grund {reason}")
        _ask_for_bank_details(db, case, reason)
    elif action == "refund":

        reclaims.refund_received(db, application_id)


def _ask_for_bank_details(db: Session, case: Application, reason: str) -> None:
    """A returned payout is still owed: ask the organisation for a correct account."""
    recipients = messenger.organisation_recipients(db, case.organisation_id)
    for email in recipients:
        messenger.send(db, key=f"payout-returned:{case.id}:{email}:{reason}", to=email, template="payout_returned",
                       application_id=case.id,
                       subject=f"Auszahlung zurückgekommen – {case.file_number}",
                       body=("Guten Tag,\n\ndie Auszahlung Ihrer Zuwendung zum Aktenzeichen "
                             f"{case.file_number} ist von der Bank zurückgekommen (Grund: {reason}). "
                             "Der Betrag steht Ihnen weiterhin zu. Bitte prüfen Sie die Bankverbindung "
                             "und den Kontoinhaber in Ihrem Profil und geben Sie uns Bescheid.\n\n"
                             "Stadt Osnabrück – Finanzen, Spendenfonds „Osnabrück hilft“"))


RECONCILE_FLOW = "reconcile_statement"


def accept_upload(db: Session, actor: Actor, filename: str, data: IO[bytes], folder: Path,
                  max_bytes: int = MAX_BYTES):
    """Keep an uploaded statement and ask the reconciliation flow to import it."""
    import re
    import uuid


    actor.require(Perm.FINANCE_PREPARE)
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename or "statement").name)[-80:] or "statement"
    token = uuid.uuid4().hex
    target = folder / f"{token}-{safe}"
    size = 0
    with open(target, "wb") as out:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            size += len(chunk)
            if size > max_bytes:
                out.close()
                target.unlink(missing_ok=True)
                raise Invalid("Die Datei ist zu groß.")
            out.write(chunk)
    if size == 0:
        target.unlink(missing_ok=True)
        raise Invalid("Die Datei ist leer.")
    job = jobs.enqueue(db, RECONCILE_FLOW, f"{RECONCILE_FLOW}:{token}", path=str(target),
                       display_name=safe, user_id=actor.user_id)
    job.requested_by_id = actor.user_id
    audit.record(db, actor, "statement_uploaded", data={"file": safe, "job": job.id})
    return job
