"""The reference camt.053 reader: the plain way, entry by entry into objects, to hold the
application's reader (grants.banking.camt, which reads by shapes of entry into rows) to.

It shares the file's defences, the statement's header and amount and date parsing with the
application's reader, and reads entries on its own: a single pass over each entry's leaves,
told apart by their parent's name. The differential tests in
tests/services/test_statement_reader.py compare what the two read and refuse.

Known difference: a charge's CdtDbtInd (Chrgs/Rcrd) is taken here for the entry's; files with
charges are not compared.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from lxml import etree

from grants.banking.camt_header import (
    CAMT053,
    StatementError,
    StatementInfo,
    _amount,
    _HeadCheckedStream,
    _local,
    _not_camt053,
    _Paths,
    _statement_info,
    _t,
)
from grants.domain.reconcile import Tx


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


_LEAVES = ("Amt", "CdtDbtInd", "RvslInd", "Sts", "Cd", "SubFmlyCd", "Dt", "DtTm", "TxDtls", "EndToEndId",
           "Nm", "IBAN", "Ustrd", "Ref", "NtryRef", "AcctSvcrRef", "AddtlNtryInf")


def _entry(ntry_el, P: _Paths, leaves: tuple[str, ...], n: int) -> Entry:
    """One pass over the leaves of an entry that we need; the parent's name tells ambiguous
    leaves apart."""
    where = f"entry {n}"
    ns_len = len(P.ns) + 2
    e: dict = {"code": []}
    txs_raw: list[dict] = []
    tx: dict | None = None
    for el in ntry_el.iter(leaves):
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
        elif tag == "Ustrd" or (tag == "Ref" and parent == "CdtrRefInf"):
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
                    raise _not_camt053(root)
                version, P = f"camt.053.001.{m.group(1)}", _Paths(ns)
                leaves = tuple(f"{{{ns}}}{name}" for name in _LEAVES)
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
                yield _entry(el, P, leaves, n_entries)
                el.clear(keep_tail=False)
                parent = el.getparent()
                while el.getprevious() is not None:   # drop what we have read: flat memory
                    del parent[0]
            elif tag == "GrpHdr":
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
                    announced = True
                    yield info
                el.clear(keep_tail=False)
    except etree.XMLSyntaxError as e:
        raise StatementError(f"not well-formed XML: {e.msg if hasattr(e, 'msg') else e}") from None
    if P is None:
        root = getattr(parser, "root", None)
        if root is not None:
            raise _not_camt053(root)
        raise StatementError("empty file or no XML document")
