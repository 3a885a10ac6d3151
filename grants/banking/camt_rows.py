"""camt.053 read straight into plain rows, for the bulk import of large statements.

The same statements, checks and refusals as `camt.read`, in two halves so that a large file can
be read on one core and booked on the other:

- `read` parses (lxml, with camt's defences) and yields a `Header` before each statement's
  entries, then each entry *raw*: the texts it holds, as a flat tuple of strings. Elements are
  found by their place in the schema, one dict lookup per element.
- `entry` checks a raw entry as `camt.read` does (EUR only, plain amounts, indicator, dates,
  batch sums) and gives `(ref, status, reversal, booking_day, value_day, bank_tx_code, txs)`,
  days as ISO strings or None, each transaction in `txs` as
  `(credit, cents, end_to_end_id, counterparty_name, counterparty_iban, remittance, return_reason)`.

No Decimal, date or object per entry: 100,000 entries cost little more than parsing them.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Iterator

from lxml import etree

from grants.banking.camt import (_AMOUNT, _ISO_NS, CAMT053, StatementError, StatementInfo, _amount, _datetime, _day,
                                 _HeadCheckedStream, _local, _Paths, _t)


@dataclass
class Header:
    """A statement begins: what `camt.read` yields as StatementInfo, with the file member it came from."""

    member: str
    info: StatementInfo


# element codes: one dict lookup per element instead of a chain of long string comparisons
(AMT, IND, STS, BOOKG, VAL, DTLS, NREF, AREF, BKTX, RVSL, ADDTL, CD, DT, DTTM, DOMN, FMLY, SUBFMLY, TXDTLS,
 REFS, E2E, AMTDTLS, TXAMT, PTIES, DBTR, CDTR, DBTRACCT, CDTRACCT, PTY, NM, ID, IBAN, RMTINF, USTRD, STRD,
 CDTRREFINF, REF, RTRINF, RSN) = range(1, 39)
_NAMES = ("Amt", "CdtDbtInd", "Sts", "BookgDt", "ValDt", "NtryDtls", "NtryRef", "AcctSvcrRef", "BkTxCd", "RvslInd",
          "AddtlNtryInf", "Cd", "Dt", "DtTm", "Domn", "Fmly", "SubFmlyCd", "TxDtls", "Refs", "EndToEndId",
          "AmtDtls", "TxAmt", "RltdPties", "Dbtr", "Cdtr", "DbtrAcct", "CdtrAcct", "Pty", "Nm", "Id", "IBAN",
          "RmtInf", "Ustrd", "Strd", "CdtrRefInf", "Ref", "RtrInf", "Rsn")


def _codes(ns: str) -> dict[str, int]:
    return {f"{{{ns}}}{name}": code for code, name in enumerate(_NAMES, 1)}


def _text(el) -> str:
    t = el.text
    return t.strip() if t else ""


# Texts that repeat from entry to entry (codes, currencies, days, accounts) are interned: the
# rows then carry one string object for each, which the pipe to the booking process sends once
# per chunk, not once per entry.
_intern = sys.intern


def _code(el) -> str:
    t = el.text
    return _intern(t.strip()) if t else ""


# ---- reading: element tree -> raw entry ------------------------------------------------------

def _party(el, get) -> str | None:
    """Dbtr/Nm (.02) or Dbtr/Pty/Nm (.08); the first name counts, even an empty one."""
    for c in el:
        k = get(c.tag)
        if k == PTY:
            for nm in c:
                if get(nm.tag) == NM:
                    return _text(nm)
        elif k == NM:
            return _text(c)
    return None


def _iban(el, get) -> str | None:
    for c in el:
        if get(c.tag) == ID:
            for i in c:
                if get(i.tag) == IBAN:
                    return _code(i)
    return None


def _raw_tx(tx, get) -> tuple:
    """(amount text, currency, indicator, EndToEndId, Dbtr, Cdtr, DbtrAcct, CdtrAcct, remittance parts, reason)"""
    amt = tx_amt = ind = e2e = dbtr = cdtr = dbtr_acct = cdtr_acct = rtr = None
    rmt = []
    for c in tx:
        k = get(c.tag)
        if k is None:
            continue
        if k == PTIES:
            for p in c:
                k = get(p.tag)
                if k == DBTR:
                    if dbtr is None:
                        dbtr = _party(p, get)
                elif k == DBTRACCT:
                    if dbtr_acct is None:
                        dbtr_acct = _iban(p, get)
                elif k == CDTR:
                    if cdtr is None:
                        cdtr = _party(p, get)
                elif k == CDTRACCT:
                    if cdtr_acct is None:
                        cdtr_acct = _iban(p, get)
        elif k == REFS:
            for r in c:
                if get(r.tag) == E2E:
                    e2e = r.text
        elif k == AMT:
            amt = c
        elif k == IND:
            ind = _code(c)
        elif k == RMTINF:
            for r in c:
                k = get(r.tag)
                if k == USTRD:
                    rmt.append(r.text)
                elif k == STRD:
                    for ri in r:
                        if get(ri.tag) == CDTRREFINF:
                            for ref in ri:
                                if get(ref.tag) == REF:
                                    rmt.append(ref.text)
        elif k == AMTDTLS:
            # the transaction's own amount in .02 (AmtDtls/TxAmt/Amt); TxDtls/Amt (.08) wins
            if tx_amt is None:
                for a in c:
                    if get(a.tag) == TXAMT:
                        for x in a:
                            if get(x.tag) == AMT:
                                tx_amt = x
                                break
                        break
        elif k == RTRINF:
            for r in c:
                if get(r.tag) == RSN:
                    for cd in r:
                        if get(cd.tag) == CD:
                            rtr = _code(cd)
    if amt is None:
        amt = tx_amt
    # False: no amount element at all (a single transaction then has the entry's amount)
    return (False if amt is None else amt.text, None if amt is None else _intern(amt.get("Ccy") or ""), ind, e2e,
            dbtr, cdtr, dbtr_acct, cdtr_acct, rmt, rtr)


_DAYS: dict[tuple[bool, str], tuple[bool, str]] = {}


def _day_of(el, get) -> tuple[bool, str] | None:
    for c in el:
        k = get(c.tag)
        if k == DT or k == DTTM:
            found = (k == DT, _text(c))
            if len(_DAYS) > 1000:
                _DAYS.clear()
            return _DAYS.setdefault(found, found)
    return None


def _raw_entry(ntry, get, n: int) -> tuple:
    amt = ind = rvsl = sts = booking = value = None
    ntry_ref = acct_ref = extra = ""
    codes = []
    txs = []
    for c in ntry:
        k = get(c.tag)
        if k is None:
            continue
        if k == DTLS:
            for d in c:
                if get(d.tag) == TXDTLS:
                    txs.append(_raw_tx(d, get))
        elif k == AMT:
            amt = c
        elif k == IND:
            ind = _code(c)
        elif k == STS:
            t = c.text
            if t and (t := t.strip()):
                sts = _intern(t)                 # .02: <Sts>BOOK</Sts>
            for x in c:
                if get(x.tag) == CD:
                    sts = _code(x)               # .08: <Sts><Cd>BOOK</Cd></Sts>
        elif k == BOOKG:
            booking = _day_of(c, get)
        elif k == VAL:
            value = _day_of(c, get)
        elif k == AREF:
            acct_ref = _text(c)
        elif k == NREF:
            ntry_ref = _text(c)
        elif k == BKTX:
            for d in c:
                if get(d.tag) == DOMN:
                    for f in d:
                        k = get(f.tag)
                        if k == CD:
                            codes.append(_code(f))
                        elif k == FMLY:
                            for g in f:
                                k = get(g.tag)
                                if k == CD or k == SUBFMLY:
                                    codes.append(_code(g))
        elif k == RVSL:
            rvsl = _code(c)
        elif k == ADDTL:
            extra = _text(c)
    text = None if amt is None else amt.text
    for i, tx in enumerate(txs):
        if tx[0] == text:                        # mostly the same amount again: send it once
            txs[i] = (text, *tx[1:])
    return (n, text, None if amt is None else _intern(amt.get("Ccy") or ""), ind, rvsl, sts, booking, value,
            acct_ref or ntry_ref, tuple(codes), extra, txs)


def _not_camt053(root) -> StatementError:
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    other = _ISO_NS.match(ns)
    return StatementError("not a camt.053 bank statement (found "
                          f"{other.group(1) if other else (ns or _local(root.tag)) or 'unknown'})")


def read(stream: IO[bytes], member: str) -> Iterator[Header | tuple]:
    """A Header before each statement's entries, then its raw entries (for `entry`), for every <Stmt>."""
    checked = io.BufferedReader(_HeadCheckedStream(stream), buffer_size=1 << 16)
    # End events of the elements we act on only: everything else stays in C. The message type is
    # checked at the first of them (the group header), before the statements are read.
    parser = etree.iterparse(checked, events=("end",), tag=("{*}GrpHdr", "{*}Stmt", "{*}Acct", "{*}Bal", "{*}Ntry"),
                             resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    P: _Paths | None = None
    get = ntry_tag = version = None
    msg_id = ""
    info: StatementInfo | None = None
    announced = False
    n_entries = 0
    try:
        for _, el in parser:
            tag = el.tag
            if tag == ntry_tag:
                if info is None:
                    raise StatementError("an entry comes before the statement's account")
                if not announced:
                    announced = True
                    yield Header(member, info)
                n_entries += 1
                yield _raw_entry(el, get, n_entries)
                el.clear(keep_tail=False)
                parent = el.getparent()
                while el.getprevious() is not None:   # drop what we have read: flat memory
                    del parent[0]
                continue
            if P is None:
                root = el.getroottree().getroot()
                m = CAMT053.match(root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else "")
                if _local(root.tag) != "Document" or not m:
                    raise _not_camt053(root)
                version, P = f"camt.053.001.{m.group(1)}", _Paths(m.group(0))
                get, ntry_tag = _codes(P.ns).get, f"{{{P.ns}}}Ntry"
                if tag == ntry_tag:
                    raise StatementError("an entry comes before the statement's account")
            tag = _local(tag)
            if tag == "GrpHdr":
                msg_id = _t(el, P, "MsgId") or ""
            elif tag == "Acct" and _local(el.getparent().tag) == "Stmt":
                info = _statement_info(el, P, version, msg_id)
            elif tag == "Bal" and info is not None and _local(el.getparent().tag) == "Stmt":
                code = _t(el, P, "Tp/CdOrPrtry/Cd") or _t(el, P, "Tp/CdOrPrtry/Prtry") or "?"
                amt = _amount(el.find(P("Amt")), f"balance {code}")
                info.balances[code] = (amt, _t(el, P, "CdtDbtInd") == "DBIT")
            elif tag == "Stmt":
                if info is None:
                    raise StatementError("a statement without an account")
                if not announced:
                    yield Header(member, info)
                info, announced = None, False
                el.clear(keep_tail=False)
    except etree.XMLSyntaxError as e:
        raise StatementError(f"not well-formed XML: {e.msg if hasattr(e, 'msg') else e}") from None
    if P is None:
        root = getattr(parser, "root", None)
        if root is not None:
            raise _not_camt053(root)
        raise StatementError("empty file or no XML document")


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


# ---- checking: raw entry -> entry -------------------------------------------------------------

def _where(n: int, i: int | None) -> str:
    return f"entry {n}" if i is None else f"entry {n}, transaction {i}"


def _cents(text: str | None | bool, ccy: str | None, n: int, i: int | None = None) -> int:
    """The checks of `camt._amount`, giving integer cents."""
    if not isinstance(text, str):
        raise StatementError(f"{_where(n, i)}: amount missing")
    text = text.strip()
    if ccy != "EUR":
        raise StatementError(f"{_where(n, i)}: currency {ccy or '(none)'} – only EUR is accepted")
    if not _AMOUNT.match(text):
        raise StatementError(f"{_where(n, i)}: amount {text[:40]!r} is not a plain decimal with at most two places")
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + (int(frac) * (10 if len(frac) == 1 else 1) if frac else 0)


def _euros(cents: int) -> str:
    return str(Decimal(cents).scaleb(-2))


class Memo:
    """What one file's entries repeat (days, amounts) is checked and converted once."""

    def __init__(self):
        self.days: dict[tuple[bool, str], str] = {}
        self.amounts: dict[str, int] = {}

    def day(self, found: tuple[bool, str] | None, n: int) -> str | None:
        """The ISO day of a Dt or DtTm text."""
        if found is None:
            return None
        day = self.days.get(found)
        if day is None:
            is_dt, text = found
            try:
                d = date.fromisoformat(text[:10]) if is_dt else datetime.fromisoformat(text.replace("Z", "+00:00")).date()
            except ValueError:
                raise StatementError(f"{_where(n, None)}: bad date {text[:40]!r}") from None
            if len(self.days) > 1000:
                self.days.clear()
            day = self.days[found] = d.isoformat()
        return day

    def cents(self, text: str | None | bool, ccy: str | None, n: int, i: int | None = None) -> int:
        if ccy == "EUR":
            cents = self.amounts.get(text)
            if cents is None:
                if len(self.amounts) > 10000:
                    self.amounts.clear()
                cents = self.amounts[text] = _cents(text, ccy, n, i)
            return cents
        return _cents(text, ccy, n, i)


def _joined(parts: list) -> str:
    if len(parts) == 1:
        p = parts[0]
        return p.strip() if p else ""
    return " ".join(t for t in (p.strip() if p else "" for p in parts) if t)


def entry(raw: tuple, memo: Memo) -> tuple:
    """The checked entry of a raw one; StatementError names the entry and the problem."""
    n, amt_text, ccy, ind, rvsl, sts, booking, value, ref, codes, extra, raw_txs = raw
    amount = memo.cents(amt_text, ccy, n)
    if ind != "CRDT" and ind != "DBIT":
        raise StatementError(f"{_where(n, None)}: credit/debit indicator {ind!r}")
    credit = ind == "CRDT"
    reversal = rvsl is not None and rvsl.lower() == "true"
    status = sts.upper() if sts else "BOOK"
    booking_day = memo.day(booking, n)
    value_day = memo.day(value, n)
    txs = []
    single = len(raw_txs) == 1
    for i, (text, tx_ccy, tx_ind, e2e, dbtr, cdtr, dbtr_acct, cdtr_acct, rmt, rtr) in enumerate(raw_txs, 1):
        if single and (text is False or (text == amt_text and tx_ccy == "EUR")):
            cents = amount                       # no amount of its own, or the entry's again
        else:
            cents = memo.cents(text, tx_ccy, n, i)
        tx_credit = (tx_ind or ind) == "CRDT"
        # the counterparty: who sent money in, or who received it
        if tx_credit != reversal:
            name, iban = dbtr, dbtr_acct
            if not name and not iban:
                name, iban = cdtr, cdtr_acct
        else:
            name, iban = cdtr, cdtr_acct
            if not name and not iban:
                name, iban = dbtr, dbtr_acct
        txs.append((tx_credit, cents, e2e.strip() or None if e2e else None, name or "", iban or None,
                    _joined(rmt), rtr or None))
    if not txs:
        txs.append((credit, amount, None, "", None, extra, None))
    elif not single:
        total = sum(c if cr == credit else -c for cr, c, *_ in txs)
        if total != amount:
            raise StatementError(f"{_where(n, None)}: the transactions add up to {_euros(total)}, the entry says "
                                 f"{_euros(amount)}")
    return ref, status, reversal, booking_day, value_day, "/".join(filter(None, codes)), tuple(txs)
