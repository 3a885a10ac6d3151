"""Writing camt.053 statements for tests, as German banks deliver them (.001.08) or older (.001.02)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape


@dataclass
class T:
    amount: str
    e2e: str | None = None
    name: str = ""
    iban: str | None = None
    remittance: str = ""
    return_reason: str | None = None


@dataclass
class N:
    amount: str
    credit: bool
    txs: list[T] = field(default_factory=list)
    status: str = "BOOK"
    reversal: bool = False
    booked: date = date(2026, 11, 25)
    ref: str | None = None


def statement(account: str, entries: list[N], *, version: str = "08", stmt_id: str = "STMT-1", seq: int = 1,
              ccy: str = "EUR", opening: str = "10000.00", closing: str | None = None) -> bytes:
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    new = version >= "08"
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{ns}"><BkToCstmrStmt>',
           f"<GrpHdr><MsgId>MSG-{escape(stmt_id)}</MsgId><CreDtTm>2026-11-25T18:00:00</CreDtTm></GrpHdr>",
           f"<Stmt><Id>{escape(stmt_id)}</Id><ElctrncSeqNb>{seq}</ElctrncSeqNb><CreDtTm>2026-11-25T18:00:00</CreDtTm>",
           f"<Acct><Id><IBAN>{account}</IBAN></Id><Ccy>{ccy}</Ccy></Acct>"]
    if closing is None:
        total = Decimal(opening)
        for e in entries:
            if e.status == "BOOK":
                total += Decimal(e.amount) if e.credit else -Decimal(e.amount)
        closing = f"{total:.2f}"
    for code, amt in (("PRCD", opening), ("CLBD", closing)):
        out.append(f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="{ccy}">{amt}</Amt>'
                   f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-25</Dt></Dt></Bal>")
    for i, e in enumerate(entries, 1):
        ind = "CRDT" if e.credit else "DBIT"
        sts = f"<Sts><Cd>{e.status}</Cd></Sts>" if new else f"<Sts>{e.status}</Sts>"
        out.append(f'<Ntry><NtryRef>{e.ref or i}</NtryRef><Amt Ccy="{ccy}">{e.amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
                   + ("<RvslInd>true</RvslInd>" if e.reversal else "") + sts
                   + f"<BookgDt><Dt>{e.booked.isoformat()}</Dt></BookgDt><ValDt><Dt>{e.booked.isoformat()}</Dt></ValDt>"
                   + f"<AcctSvcrRef>{escape(stmt_id)}-{i}</AcctSvcrRef>"
                   + "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
                   + "<NtryDtls>")
        if len(e.txs) > 1:
            out.append(f"<Btch><NbOfTxs>{len(e.txs)}</NbOfTxs></Btch>")
        for t in e.txs:
            role = "Dbtr" if e.credit else "Cdtr"
            name = f"<Pty><Nm>{escape(t.name)}</Nm></Pty>" if new else f"<Nm>{escape(t.name)}</Nm>"
            out.append("<TxDtls><Refs>" + (f"<EndToEndId>{escape(t.e2e)}</EndToEndId>" if t.e2e else "") + "</Refs>"
                       + (f'<Amt Ccy="{ccy}">{t.amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>' if new
                          else f'<AmtDtls><TxAmt><Amt Ccy="{ccy}">{t.amount}</Amt></TxAmt></AmtDtls>')
                       + f"<RltdPties><{role}>{name}</{role}>"
                       + (f"<{role}Acct><Id><IBAN>{t.iban}</IBAN></Id></{role}Acct>" if t.iban else "")
                       + "</RltdPties>"
                       + (f"<RmtInf><Ustrd>{escape(t.remittance)}</Ustrd></RmtInf>" if t.remittance else "")
                       + (f"<RtrInf><Rsn><Cd>{t.return_reason}</Cd></Rsn></RtrInf>" if t.return_reason else "")
                       + "</TxDtls>")
        out.append("</NtryDtls></Ntry>")
    out.append("</Stmt></BkToCstmrStmt></Document>")
    return "".join(out).encode("utf-8")
