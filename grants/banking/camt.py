"""Reading camt.053 bank statements (any version banks deliver: .001.02 to .001.13) into rows of
texts: the one statement reader of the application. The file's defences, its statement headers
and the errors are in grants/banking/camt_header.py (StatementError, StatementInfo and Header are
imported from here as well).

What the importer must refuse (docs/domain.md, "Bank statements") raises StatementError, naming the problem; the caller then books
nothing of the file. Reading is one half of an import, so that a large file can be read on one
core and booked on the other (grants.services.statement_reader):

- `read` (here) parses with lxml behind the XML defences (no DOCTYPE or entity declarations, no
  network, no huge trees), and yields a `Header` before each statement's entries, then each entry
  as a row `(n, plan id, texts..., currencies...)`, and before the first row of each plan the
  plan, `(None, plan id, template)`: plain tuples, which cross a pipe cheaply. Memory stays flat
  for files of hundreds of MB: each entry is dropped once its row is out.
- `camt_entries.entry` checks a row (EUR only, plain amounts, indicator, dates, batch sums) and
  gives the values to book.

Which element a text comes from is decided by its place in the schema, and that is worked out
once per *shape* of entry (the same element names, nested the same way): the first entry of a
shape is walked element by element into a plan (the element each value comes from), and every
later entry of that shape only has its texts picked, by position, in C. A large statement has a
handful of shapes, so reading an entry costs about as much again as parsing it, not three times.

tests/camt_reference.py reads the same files the plain way, entry by entry into objects; the
tests hold this reader to it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from operator import attrgetter, itemgetter, methodcaller
from typing import IO

from lxml import etree

from grants.banking.camt_header import (
    CAMT053,
    Header,
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

# ---- entries -----------------------------------------------------------------------------------

# element codes: one dict lookup per element instead of a chain of long string comparisons
(AMT, IND, STS, BOOKG, VAL, DTLS, NREF, AREF, BKTX, RVSL, ADDTL, CD, DT, DTTM, DOMN, FMLY, SUBFMLY, TXDTLS,
 REFS, E2E, AMTDTLS, TXAMT, PTIES, DBTR, CDTR, DBTRACCT, CDTRACCT, PTY, NM, ID, IBAN, RMTINF, USTRD, STRD,
 CDTRREFINF, REF, RTRINF, RSN) = range(1, 39)
_NAMES = ("Amt", "CdtDbtInd", "Sts", "BookgDt", "ValDt", "NtryDtls", "NtryRef", "AcctSvcrRef", "BkTxCd", "RvslInd",
          "AddtlNtryInf", "Cd", "Dt", "DtTm", "Domn", "Fmly", "SubFmlyCd", "TxDtls", "Refs", "EndToEndId",
          "AmtDtls", "TxAmt", "RltdPties", "Dbtr", "Cdtr", "DbtrAcct", "CdtrAcct", "Pty", "Nm", "Id", "IBAN",
          "RmtInf", "Ustrd", "Strd", "CdtrRefInf", "Ref", "RtrInf", "Rsn")
MAX_PLANS = 1000              # a file of ever new shapes starts over, and reuses the ids


def _codes(ns: str) -> dict[str, int]:
    return {f"{{{ns}}}{name}": code for code, name in enumerate(_NAMES, 1)}


# ---- the walk of one entry: which elements its values come from ------------------------------

def _party(el, get):
    """Dbtr/Nm (.02) or Dbtr/Pty/Nm (.08); the first name counts, even an empty one."""
    for c in el:
        k = get(c.tag)
        if k == PTY:
            for nm in c:
                if get(nm.tag) == NM:
                    return nm
        elif k == NM:
            return c
    return None


def _iban(el, get):
    for c in el:
        if get(c.tag) == ID:
            for i in c:
                if get(i.tag) == IBAN:
                    return i
    return None


def _walk_tx(tx, get) -> tuple:
    """(amount, indicator, EndToEndId, Dbtr name, Cdtr name, Dbtr IBAN, Cdtr IBAN, [remittance parts], reason)"""
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
                    e2e = r
        elif k == AMT:
            amt = c
        elif k == IND:
            ind = c
        elif k == RMTINF:
            for r in c:
                k = get(r.tag)
                if k == USTRD:
                    rmt.append(r)
                elif k == STRD:
                    for ri in r:
                        if get(ri.tag) == CDTRREFINF:
                            rmt.extend(ref for ref in ri if get(ref.tag) == REF)
        elif k == AMTDTLS:
            # the transaction's own amount in .02 (AmtDtls/TxAmt/Amt); TxDtls/Amt (.08) wins
            if tx_amt is None:
                for a in c:
                    if get(a.tag) == TXAMT:
                        tx_amt = next((x for x in a if get(x.tag) == AMT), None)
                        break
        elif k == RTRINF:
            for r in c:
                if get(r.tag) == RSN:
                    for cd in r:
                        if get(cd.tag) == CD:
                            rtr = cd
    return amt if amt is not None else tx_amt, ind, e2e, dbtr, cdtr, dbtr_acct, cdtr_acct, rmt, rtr


def _day_of(el, get) -> tuple | None:
    for c in el:
        k = get(c.tag)
        if k in (DT, DTTM):
            return k == DT, c
    return None


def _walk(ntry, get) -> tuple:
    """(amount, indicator, reversal, [(status element, is Sts itself)], (is Dt, booking day),
    (is Dt, value day), AcctSvcrRef, NtryRef, [bank transaction codes], AddtlNtryInf, [transactions])"""
    amt = ind = rvsl = booking = value = aref = nref = extra = None
    sts: list[tuple] = []
    codes: list = []
    txs: list[tuple] = []
    for c in ntry:
        k = get(c.tag)
        if k is None:
            continue
        if k == DTLS:
            txs.extend(_walk_tx(d, get) for d in c if get(d.tag) == TXDTLS)
        elif k == AMT:
            amt = c
        elif k == IND:
            ind = c
        elif k == STS:
            # .02: <Sts>BOOK</Sts>; .08: <Sts><Cd>BOOK</Cd></Sts>
            sts.append((c, True))
            sts.extend((x, False) for x in c if get(x.tag) == CD)
        elif k == BOOKG:
            booking = _day_of(c, get)
        elif k == VAL:
            value = _day_of(c, get)
        elif k == AREF:
            aref = c
        elif k == NREF:
            nref = c
        elif k == BKTX:
            for d in c:
                if get(d.tag) == DOMN:
                    for f in d:
                        k = get(f.tag)
                        if k == CD:
                            codes.append(f)
                        elif k == FMLY:
                            codes.extend(g for g in f if get(g.tag) in (CD, SUBFMLY))
        elif k == RVSL:
            rvsl = c
        elif k == ADDTL:
            extra = c
    return amt, ind, rvsl, sts, booking, value, aref, nref, codes, extra, txs


# ---- plans: the walk, by position ------------------------------------------------------------

_tag, _text, _ccy = attrgetter("tag"), attrgetter("text"), methodcaller("get", "Ccy")


def _getter(indices: list[int]):
    """nodes -> tuple of the nodes at these places (itemgetter gives a bare item for one index)."""
    if len(indices) > 1:
        return itemgetter(*indices)
    if indices:
        i = indices[0]
        return lambda nodes: (nodes[i],)
    return lambda nodes: ()


class _Shape:
    """The plan of one shape of entry, and how the reader picks an entry's texts by it."""

    __slots__ = ("plan", "texts", "currencies")

    def __init__(self, plan_id: int, ntry, nodes: list, get):
        amt, ind, rvsl, sts, booking, value, aref, nref, codes, extra, txs = _walk(ntry, get)
        texts = [amt, ind, rvsl, *(e for e, _ in sts), booking and booking[1], value and value[1], aref, nref,
                 *codes, extra]
        for t in txs:
            texts += [*t[:7], *t[7], t[8]]
        texts = [e for e in texts if e is not None]
        amounts = [e for e in (amt, *(t[0] for t in txs)) if e is not None]
        # row = (n, plan id, texts..., currencies...); the template counts from the first text
        at = {e: i for i, e in enumerate(texts)}
        ccy = {e: len(texts) + i for i, e in enumerate(amounts)}
        p = at.get

        def day(d):
            return None if d is None else (d[0], at[d[1]])

        template = (p(amt), ccy.get(amt), p(ind), p(rvsl), tuple((at[e], own) for e, own in sts), day(booking),
                    day(value), p(aref), p(nref), tuple(at[e] for e in codes), p(extra),
                    tuple((p(a), ccy.get(a), p(i), p(e2e), p(dn), p(cn), p(da), p(ca), tuple(at[e] for e in rmt), p(r))
                          for a, i, e2e, dn, cn, da, ca, rmt, r in txs))
        index = {e: i for i, e in enumerate(nodes)}
        self.plan = (None, plan_id, template)
        self.texts = _getter([index[e] for e in texts])
        self.currencies = _getter([index[e] for e in amounts])


# ---- the document ------------------------------------------------------------------------------

def read(stream: IO[bytes], member: str) -> Iterator[Header | tuple]:
    """A Header before each statement's entries, then its entries as rows, each plan before the
    first row that needs it, for every <Stmt>."""
    checked = io.BufferedReader(_HeadCheckedStream(stream), buffer_size=1 << 16)
    # End events of the elements we act on only: everything else stays in C. The message type is
    # checked at the first of them (the group header), before the statements are read.
    parser = etree.iterparse(checked, events=("end",), tag=("{*}GrpHdr", "{*}Stmt", "{*}Acct", "{*}Bal", "{*}Ntry"),
                             resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    P: _Paths | None = None
    get = ntry_tag = None
    version = ""                          # set with P, at the first element
    msg_id = ""
    info: StatementInfo | None = None
    announced = False
    n_entries = 0
    shapes: dict[tuple, _Shape] = {}
    last_key: tuple | None = None
    shape: _Shape                         # set at the first entry: its key differs from None
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
                nodes = list(el.iter())
                key = (tuple(map(_tag, nodes)), tuple(map(len, nodes)))
                if key != last_key:                 # mostly the shape of the entry before: no hashing
                    known = shapes.get(key)
                    if known is None:
                        if len(shapes) == MAX_PLANS:
                            shapes.clear()
                        known = shapes[key] = _Shape(len(shapes), el, nodes, get)
                        yield known.plan
                    shape = known
                    last_key = key
                yield (n_entries, shape.plan[1], *map(_text, shape.texts(nodes)),
                       *map(_ccy, shape.currencies(nodes)))
                del nodes
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


__all__ = ["Header", "StatementError", "StatementInfo", "read"]
