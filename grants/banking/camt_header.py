"""A camt.053 file up to its entries: the XML defences (no DOCTYPE or entity declarations, no
network), the namespace and version, each statement's account, period and balances, and the
parsing of amounts and dates that the entries use too. What the importer refuses raises
StatementError, naming the problem (English, for the command line and the logs).

grants/banking/camt.py reads the entries on top of this; tests/camt_reference.py, the plain
reader the tests hold it to, uses the same primitives."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from grants.clock import BERLIN

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
class Header:
    """A statement begins: its StatementInfo, with the file member it came from."""

    member: str
    info: StatementInfo


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


def _not_camt053(root) -> StatementError:
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    other = _ISO_NS.match(ns)
    return StatementError("not a camt.053 bank statement (found "
                          f"{other.group(1) if other else (ns or _local(root.tag)) or 'unknown'})")


def _statement_info(acct, P: _Paths, version: str, msg_id: str) -> StatementInfo:
    stmt = acct.getparent()
    iban = _t(acct, P, "Id/IBAN")
    if not iban:
        raise StatementError("the statement's account has no IBAN")
    ccy = _t(acct, P, "Ccy")
    if ccy and ccy != "EUR":
        raise StatementError(f"account currency {ccy} – only EUR is accepted")
    return StatementInfo(
        version=version, message_id=msg_id, statement_id=_t(stmt, P, "Id") or "",
        sequence=_t(stmt, P, "ElctrncSeqNb") or _t(stmt, P, "LglSeqNb") or "",
        account_iban=iban.replace(" ", "").upper(), currency=ccy,
        created=_datetime(_t(stmt, P, "CreDtTm")),
        from_date=_day(_t(stmt, P, "FrToDt/FrDtTm")), to_date=_day(_t(stmt, P, "FrToDt/ToDtTm")))
