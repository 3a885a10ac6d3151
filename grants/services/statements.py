"""Importing bank statements and reconciling them with the fund, all or nothing per file.

A file (XML, or a ZIP of XML files) is read as a stream; everything it books is written in one
transaction, so a refused or broken file leaves no trace. A statement imported before is
recognised by its account and statement id and changes nothing."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.banking.camt import Entry, StatementError, StatementInfo, read
from grants.domain import reconcile
from grants.domain.workflow import State
from grants.models import Application, BankEntry, BankStatement, Fund, LedgerEntry, Payout
from grants.models.base import utcnow
from grants.services import audit, bulk, cases, messenger
from grants.services.actor import Actor

MAX_BYTES = 200 * 1024 * 1024      # a statement, after unpacking
MAX_ZIP_MEMBERS = 500
BATCH = 2000


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


class _Limited(io.RawIOBase):
    """Refuses to read past `limit` bytes: a ZIP member that lies about its size cannot inflate."""

    def __init__(self, raw: IO[bytes], limit: int, name: str):
        self.raw, self.left, self.name = raw, limit, name

    def readable(self):
        return True

    def readinto(self, b):
        data = self.raw.read(min(len(b), self.left + 1))
        if len(data) > self.left:
            raise StatementError(f"{self.name}: larger than {MAX_BYTES // 2**20} MB after unpacking")
        self.left -= len(data)
        b[:len(data)] = data
        return len(data)


def _streams(path: Path, max_bytes: int) -> Iterator[tuple[str, IO[bytes]]]:
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic == b"PK\x03\x04":
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as e:
            raise StatementError(f"broken ZIP file: {e}") from None
        with zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) > MAX_ZIP_MEMBERS:
                raise StatementError(f"the ZIP holds {len(members)} files; at most {MAX_ZIP_MEMBERS} are accepted")
            for m in members:
                name = m.filename
                if "/" in name or "\\" in name or ".." in name or name.startswith(("/", "~")) or ":" in name:
                    raise StatementError(f"ZIP member {name!r} has folder parts in its name; refused")
                if m.file_size > max_bytes:
                    raise StatementError(f"ZIP member {name!r} inflates to {m.file_size} bytes; "
                                         f"at most {max_bytes // 2**20} MB are accepted")
            if not members:
                raise StatementError("the ZIP file is empty")
            for m in sorted(members, key=lambda m: m.filename):
                with zf.open(m) as raw:
                    yield m.filename, io.BufferedReader(_Limited(raw, max_bytes, m.filename), 1 << 16)
    else:
        if path.stat().st_size > max_bytes:
            raise StatementError(f"larger than {max_bytes // 2**20} MB")
        with open(path, "rb") as raw:
            yield path.name, raw


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
    known.file_numbers = dict(db.execute(select(Application.file_number, Application.id)
                                         .where(Application.file_number.is_not(None))).all())
    return known


@dataclass
class _Pending:
    """Rows collected for one batched insert."""

    entries: list[dict] = field(default_factory=list)
    ledger: list[dict] = field(default_factory=list)   # 'entry_index' points into `entries`
    payouts: list[tuple] = field(default_factory=list)  # (payout id, new state, booked on, return reason)


def import_file(db: Session, path: Path, actor: Actor, *, max_bytes: int = MAX_BYTES,
                display_name: str | None = None) -> FileResult:
    """Import one file inside the caller's transaction. Raises StatementError (nothing booked)."""
    result = FileResult(file=display_name or str(path))
    digest = _sha256(Path(path))
    funds = {f.iban.replace(" ", "").upper(): f for f in db.scalars(select(Fund))}
    known = _known(db)
    follow_ups: list[tuple[str, int, str]] = []   # (action, application id, reason)
    seen_refs: set[str] = set()
    for member, stream in _streams(Path(path), max_bytes):
        statement: BankStatement | None = None
        skipping = False
        pending = _Pending()
        for item in read(stream):
            if isinstance(item, StatementInfo):
                _flush(db, pending, statement)
                fund = funds.get(item.account_iban)
                if fund is None:
                    where = f"{member}: " if member != Path(path).name else ""
                    raise StatementError(f"{where}account {item.account_iban} is not a fund account of this system")
                key = (item.account_iban, item.ref)
                exists = db.scalar(select(BankStatement.id).where(BankStatement.account_iban == item.account_iban,
                                                                  BankStatement.statement_ref == item.ref))
                if exists is not None or key in seen_refs:
                    skipping, statement = True, None
                    continue
                seen_refs.add(key)
                skipping = False
                statement = _statement_row(item, fund, member, actor)
                statement.file_sha256 = digest
                db.add(statement)
                db.flush()
                result.statements += 1
                continue
            result.entries += 1
            if skipping:
                result.already_imported += 1
                continue
            statement.entry_count += 1
            _reconcile_entry(item, statement, known, pending, follow_ups, result)
            if len(pending.entries) >= BATCH:
                _flush(db, pending, statement)
        _flush(db, pending, statement)
    for action, application_id, reason in follow_ups:
        follow_money(db, action, application_id, reason)
    if result.statements:
        audit.record(db, actor, "statement_imported", data=result.as_dict())
    return result


def _statement_row(info: StatementInfo, fund: Fund, member: str, actor: Actor) -> BankStatement:
    opening, closing = info.opening, info.closing
    return BankStatement(fund_id=fund.id, account_iban=info.account_iban, statement_ref=info.ref[:140],
                         message_id=info.message_id[:140], file_sha256="", filename=member[:255],
                         created_on=info.created, from_date=info.from_date, to_date=info.to_date,
                         opening_balance=opening[0] if opening else None,
                         opening_negative=bool(opening and opening[1]),
                         closing_balance=closing[0] if closing else None,
                         closing_negative=bool(closing and closing[1]),
                         imported_by_id=actor.user_id)


def _reconcile_entry(entry: Entry, statement: BankStatement, known: reconcile.Known, pending: _Pending,
                     follow_ups: list, result: FileResult) -> None:
    kinds = []
    for tx in entry.txs:
        m = reconcile.match(tx, known)
        kinds.append(m.kind)
        idx = len(pending.entries)
        pending.entries.append({
            "statement_id": statement.id, "entry_ref": (entry.acct_svcr_ref or entry.ref)[:140],
            "status": entry.status[:10], "credit": tx.credit, "reversal": tx.reversal, "amount": tx.amount,
            "booking_date": entry.booking_date, "value_date": entry.value_date,
            "end_to_end_id": (tx.end_to_end_id or None) and tx.end_to_end_id[:35],
            "counterparty_name": tx.counterparty_name[:140], "counterparty_iban": tx.counterparty_iban,
            "remittance": tx.remittance, "return_reason": tx.return_reason, "bank_tx_code": entry.bank_tx_code[:50],
            "match_state": {"ignored": "ignored", "unmatched": "unmatched"}.get(m.kind, "matched"),
            "match_kind": None if m.kind in ("ignored", "unmatched") else m.kind,
            "payout_id": m.payout_id, "application_id": m.application_id,
        })
        booked_on = entry.booking_date or date.today()
        base = {"fund_id": statement.fund_id, "amount": tx.amount, "booked_on": booked_on, "entry_index": idx,
                "application_id": m.application_id, "payout_id": m.payout_id}
        if m.kind == "donation":
            pending.ledger.append({**base, "kind": "donation", "donor": tx.counterparty_name[:200] or "unbekannt",
                                   "purpose": tx.remittance})
        elif m.kind == "refund":
            pending.ledger.append({**base, "kind": "refund", "donor": tx.counterparty_name[:200],
                                   "purpose": tx.remittance})
            follow_ups.append(("refund", m.application_id, ""))
        elif m.kind == "payout":
            pending.ledger.append({**base, "kind": "payout", "purpose": tx.remittance})
            pending.payouts.append((m.payout_id, "booked", booked_on, None))
            _update_known(known, m.payout_id, "booked")
            follow_ups.append(("pay", m.application_id, ""))
        elif m.kind == "payout_return":
            pending.ledger.append({**base, "kind": "payout_return", "purpose": f"Rückläufer {tx.return_reason or ''}"})
            pending.payouts.append((m.payout_id, "returned", booked_on, tx.return_reason))
            _update_known(known, m.payout_id, "returned")
            follow_ups.append(("payout_returned", m.application_id, tx.return_reason or "Rückläufer"))
    if all(k == "ignored" for k in kinds):
        result.ignored += 1
    elif any(k == "unmatched" for k in kinds):
        result.unmatched += 1
    else:
        result.matched += 1


def _update_known(known: reconcile.Known, payout_id: int, state: str) -> None:
    for key, p in known.payouts_by_e2e.items():
        if p.id == payout_id:
            known.payouts_by_e2e[key] = reconcile.PayoutRef(p.id, p.application_id, p.end_to_end_id, p.amount,
                                                            p.iban, state, p.sent_on)
            return


def _flush(db: Session, pending: _Pending, statement: BankStatement | None) -> None:
    if not pending.entries:
        return
    entry_table, ledger_table = BankEntry.__table__, LedgerEntry.__table__
    ids = bulk.allocate_ids(db, entry_table, len(pending.entries))
    for row, id_ in zip(pending.entries, ids):
        row["id"] = id_
    bulk.insert(db, entry_table, pending.entries)
    if pending.ledger:
        now = utcnow()
        rows = []
        for row in pending.ledger:
            row = dict(row)
            row["bank_entry_id"] = ids[row.pop("entry_index")]
            rows.append({"donor": "", "purpose": "", "application_id": None, "payout_id": None,
                         "created_at": now, **row})
        bulk.insert(db, ledger_table, rows)
    for payout_id, state, booked_on, reason in pending.payouts:
        p = db.get(Payout, payout_id)
        p.state = state
        if state == "booked":
            p.booked_on = booked_on
        else:
            p.return_reason = reason
    pending.entries.clear()
    pending.ledger.clear()
    pending.payouts.clear()


def follow_money(db: Session, action: str, application_id: int, reason: str) -> None:
    """The case follows its money: letter_sent -> paid when booked; back when returned."""
    case = db.get(Application, application_id)
    system = Actor.system("reconciliation")
    if action == "pay" and case.state == State.LETTER_SENT.value:
        cases.transition(db, case, "pay", system)
    elif action == "payout_returned" and case.state == State.PAID.value:
        still_booked = db.scalar(select(Payout.id).where(Payout.application_id == case.id, Payout.state == "booked"))
        if still_booked is None:
            cases.transition(db, case, "payout_returned", system, reason=f"Rückläufer, Grund {reason}")
        _ask_for_bank_details(db, case, reason)
    elif action == "refund":
        from grants.services import reclaims

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

    from grants.domain.roles import Perm
    from grants.services import jobs
    from grants.services.errors import Invalid

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
