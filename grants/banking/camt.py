"""Reading camt.053 bank statements as a stream (any version banks deliver: .001.02 to .001.13).

Memory stays flat for files of hundreds of MB: entries are yielded one by one and their
elements cleared. What DOMAIN.md says to refuse raises StatementError, naming the problem;
the caller then books nothing of the file.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Iterator

from zoneinfo import ZoneInfo

from lxml import etree

from grants.domain.reconcile import Tx

CAMT053 = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})$")
_AMOUNT = re.compile(r"^\d{1,15}(\.\d{1,2})?$")
_ISO_NS = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.\d{3}\.\d{3}\.\d{2})$")
BERLIN = ZoneInfo("Europe/Berlin")
HEAD_LIMIT = 1 << 20   # the prolog before the root element may not be larger than this


class StatementError(ValueError):
    """The file is refused as a whole; the message says why (English, for the CLI and logs)."""


@dataclass
class StatementInfo:
    version: str
    message_id: str
    statement_id: str
    sequence: str
    account_iban: str
    currency: str | None
    created: datetime | None
    from_date: date | None
    to_date: date | None
    balances: dict[str, tuple[Decimal, bool]] = field(default_factory=dict)  # code -> (amount, negative)

    @property
    def ref(self) -> str:
        return f"{self.statement_id}#{self.sequence}" if self.sequence else self.statement_id

    @property
    def opening(self):
        return self.balances.get("OPBD") or self.balances.get("PRCD")

    @property
    def closing(self):
        return self.balances.get("CLBD")


@dataclass
class Entry:
    """One <Ntry>; `txs` has one Tx per transaction (a batch booking is split)."""

    ref: str
    acct_svcr_ref: str | None
    credit: bool
    amount: Decimal
    status: str
    booking_date: date | None
    value_date: date | None
    reversal: bool
    bank_tx_code: str
    txs: list[Tx]


class _HeadCheckedStream(io.RawIOBase):
    """Reads the prolog before the root element and refuses a DOCTYPE or ENTITY declaration
    (entity expansion, external entities), then passes the whole stream on unchanged."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        head = b""
        while True:
            chunk = raw.read(65536)
            head += chunk
            upper = head.upper()
            if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
                # a DOCTYPE can only stand before the root; anywhere in the prolog it is refused
                if self._before_root(head, upper):
                    raise StatementError("the file declares a DOCTYPE or entities; refused for safety")
            if self._root_seen(head) or not chunk:
                break
            if len(head) > HEAD_LIMIT:
                raise StatementError("no XML root element in the first MB")
        self.buffer = head

    @staticmethod
    def _root_seen(head: bytes) -> bool:
        return re.search(rb"<[A-Za-z_]", head) is not None

    @staticmethod
    def _before_root(head: bytes, upper: bytes) -> bool:
        m = re.search(rb"<[A-Za-z_]", head)
        pos = m.start() if m else len(head)
        return b"<!DOCTYPE" in upper[:pos] or b"<!ENTITY" in upper[:pos]

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.buffer:
            n = min(len(b), len(self.buffer))
            b[:n] = self.buffer[:n]
            self.buffer = self.buffer[n:]
            return n
        data = self.raw.read(len(b))
        b[: len(data)] = data
        return len(data)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(el, *path):
    for name in path:
        if el is None:
            return None
        el = next((c for c in el if _local(c.tag) == name), None)
    return el


def _text(el, *path) -> str | None:
    node = _child(el, *path)
    return node.text.strip() if node is not None and node.text else None


def _amount(el, where: str) -> Decimal:
    if el is None or el.text is None:
        raise StatementError(f"{where}: amount missing")
    text = el.text.strip()
    ccy = el.get("Ccy")
    if ccy != "EUR":
        raise StatementError(f"{where}: currency {ccy or '(none)'} – only EUR is accepted")
    if not _AMOUNT.match(text):
        raise StatementError(f"{where}: amount {text[:40]!r} is not a plain decimal with at most two places")
    return Decimal(text)


def _date(el, where: str) -> date | None:
    if el is None:
        return None
    d = _text(el, "Dt")
    dt = _text(el, "DtTm")
    try:
        if d:
            return date.fromisoformat(d[:10])
        if dt:
            return datetime.fromisoformat(dt.replace("Z", "+00:00")).date()
    except ValueError:
        raise StatementError(f"{where}: bad date {(d or dt)[:40]!r}") from None
    return None


def _datetime(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # German banks write local time without a zone
    return dt if dt.tzinfo else dt.replace(tzinfo=BERLIN)


def _day(text: str | None) -> date | None:
    dt = _datetime(text)
    return dt.date() if dt else None


def _status(ntry) -> str:
    sts = _child(ntry, "Sts")
    if sts is None:
        return "BOOK"
    code = _text(sts, "Cd")            # .001.08 and newer: <Sts><Cd>BOOK</Cd></Sts>
    return (code or (sts.text or "").strip() or "BOOK").upper()


def _party(tx, role: str):
    """Name and IBAN of the debtor or creditor; .001.08 nests the name under Pty."""
    parties = _child(tx, "RltdPties")
    party = _child(parties, role)
    name = _text(party, "Nm") or _text(party, "Pty", "Nm") or ""
    iban = _text(parties, f"{role}Acct", "Id", "IBAN")
    return name, iban


def _remittance(tx) -> str:
    rmt = _child(tx, "RmtInf")
    if rmt is None:
        return ""
    parts = [c.text.strip() for c in rmt if _local(c.tag) == "Ustrd" and c.text]
    for strd in (c for c in rmt if _local(c.tag) == "Strd"):
        ref = _text(strd, "CdtrRefInf", "Ref")
        if ref:
            parts.append(ref)
    return " ".join(parts)


def _entry(ntry, n: int) -> Entry:
    where = f"entry {n}"
    amount = _amount(_child(ntry, "Amt"), where)
    ind = _text(ntry, "CdtDbtInd")
    if ind not in ("CRDT", "DBIT"):
        raise StatementError(f"{where}: credit/debit indicator {ind!r}")
    credit = ind == "CRDT"
    reversal = (_text(ntry, "RvslInd") or "").lower() == "true"
    status = _status(ntry)
    booking = _date(_child(ntry, "BookgDt"), where)
    value = _date(_child(ntry, "ValDt"), where)
    domn = _child(ntry, "BkTxCd", "Domn")
    code = "/".join(x for x in (_text(domn, "Cd"), _text(domn, "Fmly", "Cd"), _text(domn, "Fmly", "SubFmlyCd")) if x)
    txs: list[Tx] = []
    details = [d for d in (ntry.iterchildren() if hasattr(ntry, "iterchildren") else []) if _local(d.tag) == "NtryDtls"]
    tx_elements = [t for d in details for t in d if _local(t.tag) == "TxDtls"]
    for i, tx in enumerate(tx_elements, 1):
        tx_where = f"{where}, transaction {i}"
        amt_el = _child(tx, "Amt") if _child(tx, "Amt") is not None else _child(tx, "AmtDtls", "TxAmt", "Amt")
        tx_amount = amount if (amt_el is None and len(tx_elements) == 1) else _amount(amt_el, tx_where)
        tx_ind = _text(tx, "CdtDbtInd") or ind
        tx_credit = tx_ind == "CRDT"
        # the counterparty: who sent money in, or who received it
        name, iban = _party(tx, "Dbtr" if tx_credit != reversal else "Cdtr")
        if not name and not iban:
            name, iban = _party(tx, "Cdtr" if tx_credit != reversal else "Dbtr")
        txs.append(Tx(credit=tx_credit, amount=tx_amount, status=status, booking_date=booking,
                      end_to_end_id=_text(tx, "Refs", "EndToEndId"), counterparty_name=name,
                      counterparty_iban=iban, remittance=_remittance(tx), reversal=reversal,
                      return_reason=_text(tx, "RtrInf", "Rsn", "Cd")))
    if not txs:
        txs.append(Tx(credit=credit, amount=amount, status=status, booking_date=booking, reversal=reversal,
                      remittance=_text(ntry, "AddtlNtryInf") or ""))
    elif len(txs) > 1:
        total = sum((t.amount if t.credit == credit else -t.amount) for t in txs)
        if total != amount:
            raise StatementError(f"{where}: the transactions add up to {total}, the entry says {amount}")
    return Entry(ref=_text(ntry, "NtryRef") or "", acct_svcr_ref=_text(ntry, "AcctSvcrRef"), credit=credit,
                 amount=amount, status=status, booking_date=booking, value_date=value, reversal=reversal,
                 bank_tx_code=code, txs=txs)


def read(stream: IO[bytes]) -> Iterator[StatementInfo | Entry]:
    """Yield each statement's header (before its entries), then its entries, for every <Stmt>."""
    checked = io.BufferedReader(_HeadCheckedStream(stream), buffer_size=1 << 16)
    parser = etree.iterparse(checked, events=("start", "end"), resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True)
    version = None
    msg_id = ""
    info: StatementInfo | None = None
    announced = False
    n_entries = 0
    try:
        for event, el in parser:
            tag = _local(el.tag)
            if version is None:
                if event != "start":
                    continue
                ns = el.tag[1:].split("}", 1)[0] if el.tag.startswith("{") else ""
                m = CAMT053.match(ns)
                if tag != "Document" or not m:
                    other = _ISO_NS.match(ns)
                    raise StatementError("not a camt.053 bank statement (found "
                                         f"{other.group(1) if other else (ns or tag) or 'unknown'})")
                version = f"camt.053.001.{m.group(1)}"
                continue
            if event == "end" and tag == "MsgId" and _local(el.getparent().tag) == "GrpHdr":
                msg_id = (el.text or "").strip()
            elif event == "start" and tag == "Stmt":
                info, announced = None, False
            elif event == "end" and tag == "Acct" and _local(el.getparent().tag) == "Stmt":
                stmt = el.getparent()
                iban = _text(el, "Id", "IBAN")
                if not iban:
                    raise StatementError("the statement's account has no IBAN")
                ccy = _text(el, "Ccy")
                if ccy and ccy != "EUR":
                    raise StatementError(f"account currency {ccy} – only EUR is accepted")
                frto = _child(stmt, "FrToDt")
                info = StatementInfo(
                    version=version, message_id=msg_id, statement_id=_text(stmt, "Id") or "",
                    sequence=_text(stmt, "ElctrncSeqNb") or _text(stmt, "LglSeqNb") or "",
                    account_iban=iban.replace(" ", "").upper(), currency=ccy,
                    created=_datetime(_text(stmt, "CreDtTm")),
                    from_date=_day(_text(frto, "FrDtTm")), to_date=_day(_text(frto, "ToDtTm")))
            elif event == "end" and tag == "Bal" and info is not None:
                code = _text(el, "Tp", "CdOrPrtry", "Cd") or _text(el, "Tp", "CdOrPrtry", "Prtry") or "?"
                amt = _amount(_child(el, "Amt"), f"balance {code}")
                info.balances[code] = (amt, _text(el, "CdtDbtInd") == "DBIT")
            elif event == "start" and tag == "Ntry":
                if info is None:
                    raise StatementError("an entry comes before the statement's account")
                if not announced:
                    announced = True
                    yield info
            elif event == "end" and tag == "Ntry":
                n_entries += 1
                yield _entry(el, n_entries)
                el.clear(keep_tail=False)
                parent = el.getparent()
                while el.getprevious() is not None:   # drop what we have read: flat memory
                    del parent[0]
            elif event == "end" and tag == "Stmt":
                if info is None:
                    raise StatementError("a statement without an account")
                if not announced:
                    announced = True
                    yield info
                el.clear(keep_tail=False)
    except etree.XMLSyntaxError as e:
        raise StatementError(f"not well-formed XML: {e.msg if hasattr(e, 'msg') else e}") from None
    if version is None:
        raise StatementError("empty file or no XML document")
