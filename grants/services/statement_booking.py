"""Booking the entries of an imported statement: each transaction reconciled, the bank entries
inserted in batches with the driver's executemany from plain lists, and the ledger rows of the
matched ones copied from them in SQL (a 100,000-entry statement must not build an ORM object or
a dict per row, nor bind the same values twice)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from grants import clock
from grants.domain import reconcile
from grants.models import BankEntry, BankStatement, LedgerEntry, Payout
from grants.services import bulk

BATCH = 2000                      # rows per insert; the last batch is what the import waits for at the end

_ENTRY_COLUMNS = ("id", "statement_id", "entry_ref", "status", "credit", "reversal", "amount", "booking_date",
                  "value_date", "end_to_end_id", "counterparty_name", "counterparty_iban", "remittance",
                  "return_reason", "bank_tx_code", "match_state", "match_kind", "payout_id", "application_id")
_LEDGER_COLUMNS = ("fund_id", "kind", "amount", "booked_on", "application_id", "payout_id", "bank_entry_id",
                   "donor", "purpose", "created_at")
(_AMOUNT, _BOOKING, _NAME, _REMITTANCE, _REASON, _KIND, _PAYOUT, _APPLICATION) = (
    _ENTRY_COLUMNS.index(c) for c in ("amount", "booking_date", "counterparty_name", "remittance", "return_reason",
                                      "match_kind", "payout_id", "application_id"))
# A matched bank entry's ledger row, copied from it (the import's own rows of one batch).
_LEDGER_COPY = """INSERT INTO ledger_entry (fund_id, kind, amount, booked_on, application_id, payout_id, bank_entry_id,
donor, purpose, created_at)
SELECT {p}, match_kind, amount, COALESCE(booking_date, {p}), application_id, payout_id, id,
  CASE match_kind WHEN 'donation' THEN CASE WHEN counterparty_name = '' THEN 'unbekannt' ELSE counterparty_name END
                  WHEN 'refund' THEN counterparty_name ELSE '' END,
  CASE match_kind WHEN 'payout_return' THEN {p} || COALESCE(return_reason, '') ELSE remittance END,
  {p}
FROM bank_entry WHERE statement_id = {p} AND id BETWEEN {p} AND {p} AND match_kind IS NOT NULL ORDER BY id"""


def _insert_sql(table: str, columns: tuple[str, ...], placeholder: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([placeholder] * len(columns))})"


class Booking:
    """Collects the rows of one import and writes them in batches, inside the caller's transaction."""

    def __init__(self, db: Session, known: reconcile.Known, follow_ups: list):
        self.db, self.known, self.follow_ups = db, known, follow_ups
        self.sqlite = db.get_bind().dialect.name == "sqlite"
        # sqlite3 binds a bool only after looking for an adapter (and failing): 1 and 0 go straight in
        self.bools = (0, 1) if self.sqlite else (False, True)
        placeholder = "?" if self.sqlite else "%s"
        self.entry_sql = _insert_sql(BankEntry.__tablename__, _ENTRY_COLUMNS, placeholder)
        self.ledger_sql = _insert_sql(LedgerEntry.__tablename__, _LEDGER_COLUMNS, placeholder)
        self.ledger_copy_sql = _LEDGER_COPY.format(p=placeholder)
        self.statement: BankStatement | None = None
        self.entries: list[list] = []             # id filled in at flush
        self.long_names: dict[int, str] = {}      # index in `entries` -> donor, where longer than 140
        self.payouts: list[tuple] = []            # (payout id, new state, booked on, return reason)
        self.counted = 0                          # entries of `statement` not yet added to its entry_count
        self.days: dict[str, date] = {}
        self.matched = self.unmatched = self.ignored = 0

    def start(self, statement: BankStatement) -> None:
        self.flush()
        self.statement = statement

    def _day(self, iso: str | None) -> date | None:
        if iso is None:
            return None
        d = self.days.get(iso)
        if d is None:
            d = self.days[iso] = date.fromisoformat(iso)
        return d

    def _statement(self) -> BankStatement:
        """The statement whose entries are being collected: start() comes before them."""
        if self.statement is None:
            raise RuntimeError("bank entries before their statement")
        return self.statement

    def add(self, entry: tuple) -> None:
        """One checked entry (`camt_entries.entry`): a bank entry row, and at most one ledger row, per
        transaction."""
        ref, status, reversal, booking_iso, value_iso, code, txs = entry
        statement, known, rows = self._statement(), self.known, self.entries
        booking = self._day(booking_iso)
        if not self.sqlite:
            value_iso, booking_iso = self._day(value_iso), booking
        entry_ref, status_col, code = ref[:140], status[:10], code[:50]
        bools = self.bools
        reversal_col = bools[reversal]
        kinds = set()
        plain = status == "BOOK" and not reversal
        for credit, cents, e2e, name, iban, remittance, reason in txs:
            if plain and credit and reason is None and cents:
                m = reconcile.match_credit(remittance, name, known)
            else:
                m = reconcile.match(reconcile.Tx(credit, Decimal(cents).scaleb(-2), status, booking, e2e, name, iban,
                                                 remittance, reversal, reason), known)
            kind = m.kind
            kinds.add(kind)
            if kind == "donation":
                state, match_kind = "matched", kind
            elif kind == "ignored" or kind == "unmatched":
                state, match_kind = kind, None
            else:
                state, match_kind = "matched", kind
                self._follow(m, kind, booking, reason)
            if len(name) > 140 and (kind == "donation" or kind == "refund"):
                self.long_names[len(rows)] = name[:200]     # the bank entry keeps 140 characters, the donor 200
            rows.append([None, statement.id, entry_ref, status_col, bools[credit], reversal_col, cents, booking_iso,
                         value_iso, e2e and e2e[:35], name[:140], iban, remittance, reason, code, state, match_kind,
                         m.payout_id, m.application_id])
        if kinds == {"ignored"}:
            self.ignored += 1
        elif "unmatched" in kinds:
            self.unmatched += 1
        else:
            self.matched += 1
        self.counted += 1
        if len(rows) >= BATCH:
            self.flush()

    def _follow(self, m: reconcile.Match, kind: str, booking: date | None, reason: str | None) -> None:
        """What a refund, payout or return changes beyond the ledger: the payout, then the case."""
        if kind == "refund":
            self.follow_ups.append(("refund", m.application_id, ""))
        elif kind == "payout":
            self._payout(m, "booked", booking or clock.today(), None)
            self.follow_ups.append(("pay", m.application_id, ""))
        elif kind == "payout_return":
            self._payout(m, "returned", booking or clock.today(), reason)
            self.follow_ups.append(("payout_returned", m.application_id, reason or "Rückläufer"))

    def _payout(self, m: reconcile.Match, state: str, booked_on: date, reason: str | None) -> None:
        self.payouts.append((m.payout_id, state, booked_on, reason))
        known = self.known
        for key, p in known.payouts_by_e2e.items():
            if p.id == m.payout_id:
                known.payouts_by_e2e[key] = replace(p, state=state)
                return

    def flush(self) -> None:
        if self.statement is not None and self.counted:
            self.statement.entry_count += self.counted
            self.counted = 0
        if self.entries:
            self._insert()
        for payout_id, state, booked_on, reason in self.payouts:
            p = self.db.get_one(Payout, payout_id)
            p.state = state
            if state == "booked":
                p.booked_on = booked_on
            else:
                p.return_reason = reason
        self.entries, self.payouts, self.long_names = [], [], {}

    def _insert(self) -> None:
        statement = self._statement()
        ids = bulk.allocate_ids(self.db, BankEntry.metadata.tables[BankEntry.__tablename__], len(self.entries))
        for row, id_ in zip(self.entries, ids, strict=True):
            row[0] = id_
        at, day = clock.now(), clock.today()
        now: datetime | str = at
        today: date | str = day
        if self.sqlite:
            # the storage formats of SQLAlchemy's SQLite DATETIME (naive UTC with microseconds) and DATE
            now, today = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), day.isoformat()
        # the driver's own cursor on the session's connection, inside its transaction: SQLAlchemy
        # would look at every row of the batch once more
        cursor = self.db.connection().connection.cursor()
        try:
            cursor.executemany(self.entry_sql, self.entries)
            if self.long_names:
                cursor.executemany(self.ledger_sql, self._ledger_rows(today, now))
            else:
                # every matched entry's ledger row is made of the bank entry just written: the
                # database copies it, rather than Python building and binding 100,000 rows again
                cursor.execute(self.ledger_copy_sql, (statement.fund_id, today, "Rückläufer ", now,
                                                      statement.id, ids[0], ids[-1]))
        finally:
            cursor.close()

    def _ledger_rows(self, today: date | str, now: datetime | str) -> list[tuple]:
        """What the copy in SQL makes, in Python: for a batch with names longer than a bank entry keeps."""
        fund_id = self._statement().fund_id
        rows = []
        for idx, row in enumerate(self.entries):
            kind = row[_KIND]
            if kind is None:
                continue
            name = self.long_names.get(idx, row[_NAME])
            donor = (name or "unbekannt") if kind == "donation" else name if kind == "refund" else ""
            purpose = f"Rückläufer {row[_REASON] or ''}" if kind == "payout_return" else row[_REMITTANCE]
            rows.append((fund_id, kind, row[_AMOUNT], row[_BOOKING] or today, row[_APPLICATION],
                         row[_PAYOUT], row[0], donor, purpose, now))
        return rows
