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

from lxml import etree

from grants.clock import BERLIN
from grants.domain.reconcile import Tx

CAMT053 = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})$")
_AMOUNT = re.compile(r"^\d{1,15}(\.\d{1,2})?$")
_ISO_NS = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.\d{3}\.\d{3}\.\d{2})$")
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


class _Paths:
    """Element paths in the document's namespace, built once: find/findtext then run in C."""

    def __init__(self, ns: str):
        self.ns = ns
        self._cache: dict[str, str] = {}
        self.leaves = tuple(f"{{{ns}}}{name}" for name in _LEAVES)

    def __call__(self, path: str) -> str:
        p = self._cache.get(path)
        if p is None:
            p = self._cache[path] = "/".join(f"{{{self.ns}}}{part}" for part in path.split("/"))
        return p


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


def _datetime(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    # German banks write local time without a zone
    return dt if dt.tzinfo else dt.replace(tzinfo=BERLIN)


def _day(text: str | None) -> date | None:
    dt = _datetime(text)
    return dt.date() if dt else None


def _t(el, P: _Paths, path: str) -> str | None:
    text = el.findtext(P(path))
    return text.strip() if text else None


_LEAVES = ("Amt", "CdtDbtInd", "RvslInd", "Sts", "Cd", "SubFmlyCd", "Dt", "DtTm", "TxDtls", "EndToEndId",
           "Nm", "IBAN", "Ustrd", "Ref", "NtryRef", "AcctSvcrRef", "AddtlNtryInf")


def _entry(ntry_el, P: _Paths, n: int) -> Entry:
    """One pass over the leaves of an entry that we need, filtered in C (a 100,000-entry file
    must import in seconds); the parent's name tells ambiguous leaves apart."""
    where = f"entry {n}"
    ns_len = len(P.ns) + 2
    e: dict = {"code": []}
    txs_raw: list[dict] = []
    tx: dict | None = None
    for el in ntry_el.iter(P.leaves):
        tag = el.tag[ns_len:]
        text = el.text.strip() if el.text else ""
        if tag == "TxDtls":
            tx = {"rmt": []}
            txs_raw.append(tx)
            continue
        parent = el.getparent().tag[ns_len:]
        if tx is None:
            if tag == "Amt" and parent == "Ntry":
                e["amt_el"] = el
            elif tag == "CdtDbtInd":
                e["ind"] = text
            elif tag == "RvslInd":
                e["rvsl"] = text
            elif tag == "Sts":
                if text:
                    e["sts"] = text
            elif tag == "Cd" and parent == "Sts":
                e["sts"] = text
            elif tag in ("Dt", "DtTm") and parent in ("BookgDt", "ValDt"):
                e.setdefault(parent, (tag, text))
            elif (tag == "Cd" and parent in ("Domn", "Fmly")) or tag == "SubFmlyCd":
                e["code"].append(text)
            elif tag in ("NtryRef", "AcctSvcrRef", "AddtlNtryInf"):
                e[tag] = text
            continue
        if tag == "Amt":
            # the transaction's own amount: TxDtls/Amt (.08) or AmtDtls/TxAmt/Amt (.02), not InstdAmt etc.
            if parent == "TxDtls" or (parent == "TxAmt" and "amt_el" not in tx):
                tx["amt_el"] = el
        elif tag == "CdtDbtInd":
            tx["ind"] = text
        elif tag == "EndToEndId":
            tx["e2e"] = text
        elif tag == "Nm":
            role = parent if parent in ("Dbtr", "Cdtr") else el.getparent().getparent().tag[ns_len:] if parent == "Pty" else None
            if role in ("Dbtr", "Cdtr"):
                tx.setdefault(role, text)
        elif tag == "IBAN":
            acct = el.getparent().getparent().tag[ns_len:]
            if acct in ("DbtrAcct", "CdtrAcct"):
                tx.setdefault(acct, text)
        elif tag == "Ustrd":
            if text:
                tx["rmt"].append(text)
        elif tag == "Ref" and parent == "CdtrRefInf":
            if text:
                tx["rmt"].append(text)
        elif tag == "Cd" and parent == "Rsn" and el.getparent().getparent().tag[ns_len:] == "RtrInf":
            tx["rtr"] = text
    amount = _amount(e.get("amt_el"), where)
    ind = e.get("ind")
    if ind not in ("CRDT", "DBIT"):
        raise StatementError(f"{where}: credit/debit indicator {ind!r}")
    credit = ind == "CRDT"
    reversal = e.get("rvsl", "").lower() == "true"
    status = (e.get("sts") or "BOOK").upper()
    booking = _parse_day(e.get("BookgDt"), where)
    value = _parse_day(e.get("ValDt"), where)
    txs: list[Tx] = []
    for i, t in enumerate(txs_raw, 1):
        amt_el = t.get("amt_el")
        tx_amount = amount if (amt_el is None and len(txs_raw) == 1) else _amount(amt_el, f"{where}, transaction {i}")
        tx_credit = (t.get("ind") or ind) == "CRDT"
        # the counterparty: who sent money in, or who received it
        first, second = ("Dbtr", "Cdtr") if tx_credit != reversal else ("Cdtr", "Dbtr")
        name, iban = t.get(first, ""), t.get(first + "Acct")
        if not name and not iban:
            name, iban = t.get(second, ""), t.get(second + "Acct")
        txs.append(Tx(credit=tx_credit, amount=tx_amount, status=status, booking_date=booking,
                      end_to_end_id=t.get("e2e") or None, counterparty_name=name, counterparty_iban=iban or None,
                      remittance=" ".join(t["rmt"]), reversal=reversal, return_reason=t.get("rtr") or None))
    if not txs:
        txs.append(Tx(credit=credit, amount=amount, status=status, booking_date=booking, reversal=reversal,
                      remittance=e.get("AddtlNtryInf", "")))
    elif len(txs) > 1:
        total = sum((t.amount if t.credit == credit else -t.amount) for t in txs)
        if total != amount:
            raise StatementError(f"{where}: the transactions add up to {total}, the entry says {amount}")
    return Entry(ref=e.get("NtryRef", ""), acct_svcr_ref=e.get("AcctSvcrRef") or None, credit=credit,
                 amount=amount, status=status, booking_date=booking, value_date=value, reversal=reversal,
                 bank_tx_code="/".join(c for c in e["code"] if c), txs=txs)


def _parse_day(found: tuple[str, str] | None, where: str) -> date | None:
    if not found:
        return None
    kind, text = found
    try:
        if kind == "Dt":
            return date.fromisoformat(text[:10])
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise StatementError(f"{where}: bad date {text[:40]!r}") from None


def read(stream: IO[bytes]) -> Iterator[StatementInfo | Entry]:
    """Yield each statement's header (before its entries), then its entries, for every <Stmt>."""
    checked = io.BufferedReader(_HeadCheckedStream(stream), buffer_size=1 << 16)
    # Only the elements we act on raise events: the per-element cost stays in C.
    parser = etree.iterparse(checked, events=("start", "end"),
                             tag=("{*}Document", "{*}GrpHdr", "{*}Stmt", "{*}Acct", "{*}Bal", "{*}Ntry"),
                             resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    P: _Paths | None = None
    version = None
    msg_id = ""
    info: StatementInfo | None = None
    announced = False
    n_entries = 0
    try:
        for event, el in parser:
            if P is None:
                root = el.getroottree().getroot()
                ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
                m = CAMT053.match(ns)
                if _local(root.tag) != "Document" or not m:
                    other = _ISO_NS.match(ns)
                    raise StatementError("not a camt.053 bank statement (found "
                                         f"{other.group(1) if other else (ns or _local(root.tag)) or 'unknown'})")
                version, P = f"camt.053.001.{m.group(1)}", _Paths(ns)
            tag = _local(el.tag)
            if event == "start":
                if tag == "Stmt":
                    info, announced = None, False
                elif tag == "Ntry":
                    if info is None:
                        raise StatementError("an entry comes before the statement's account")
                    if not announced:
                        announced = True
                        yield info
                continue
            if tag == "Ntry":
                n_entries += 1
                yield _entry(el, P, n_entries)
                el.clear(keep_tail=False)
                parent = el.getparent()
                while el.getprevious() is not None:   # drop what we have read: flat memory
                    del parent[0]
            elif tag == "GrpHdr":
                msg_id = _t(el, P, "MsgId") or ""
            elif tag == "Acct" and _local(el.getparent().tag) == "Stmt":
                stmt = el.getparent()
                iban = _t(el, P, "Id/IBAN")
                if not iban:
                    raise StatementError("the statement's account has no IBAN")
                ccy = _t(el, P, "Ccy")
                if ccy and ccy != "EUR":
                    raise StatementError(f"account currency {ccy} – only EUR is accepted")
                info = StatementInfo(
                    version=version, message_id=msg_id, statement_id=_t(stmt, P, "Id") or "",
                    sequence=_t(stmt, P, "ElctrncSeqNb") or _t(stmt, P, "LglSeqNb") or "",
                    account_iban=iban.replace(" ", "").upper(), currency=ccy,
                    created=_datetime(_t(stmt, P, "CreDtTm")),
                    from_date=_day(_t(stmt, P, "FrToDt/FrDtTm")), to_date=_day(_t(stmt, P, "FrToDt/ToDtTm")))
            elif tag == "Bal" and info is not None and _local(el.getparent().tag) == "Stmt":
                code = _t(el, P, "Tp/CdOrPrtry/Cd") or _t(el, P, "Tp/CdOrPrtry/Prtry") or "?"
                amt = _amount(el.find(P("Amt")), f"balance {code}")
                info.balances[code] = (amt, _t(el, P, "CdtDbtInd") == "DBIT")
            elif tag == "Stmt":
                if info is None:
                    raise StatementError("a statement without an account")
                if not announced:
                    announced = True
                    yield info
                el.clear(keep_tail=False)
    except etree.XMLSyntaxError as e:
        raise StatementError(f"not well-formed XML: {e.msg if hasattr(e, 'msg') else e}") from None
    if P is None:
        root = getattr(parser, "root", None)
        if root is not None:
            ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
            other = _ISO_NS.match(ns)
            raise StatementError("not a camt.053 bank statement (found "
                                 f"{other.group(1) if other else (ns or _local(root.tag)) or 'unknown'})")
        raise StatementError("empty file or no XML document")
