"""The demo's bank: reading the transfers of a pain.001 file as the bank would, and writing the fund
account's statements as camt.053.001.08, the format German banks deliver."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


@dataclass(frozen=True)
class Transfer:
    """One transaction on the fund's account: who paid or was paid, and what for."""

    amount: Decimal
    name: str
    iban: str | None = None
    remittance: str = ""
    end_to_end_id: str | None = None


@dataclass(frozen=True)
class Entry:
    """A booking on the statement; several transfers in one entry are a batch (a payment run)."""

    booked_on: date
    credit: bool
    transfers: tuple[Transfer, ...]

    @property
    def amount(self) -> Decimal:
        return sum((t.amount for t in self.transfers), Decimal("0.00"))


def transfers_in(pain_file: Path) -> tuple[date, list[Transfer]]:
    """The requested execution day and the credit transfers of a pain.001 file."""
    root = etree.parse(str(pain_file)).getroot()
    ns = {"p": root.nsmap[None]}
    day = root.findtext(".//p:ReqdExctnDt/p:Dt", namespaces=ns) or root.findtext(".//p:ReqdExctnDt", namespaces=ns)
    out = [Transfer(amount=Decimal(tx.findtext("p:Amt/p:InstdAmt", namespaces=ns)),
                    name=tx.findtext("p:Cdtr/p:Nm", namespaces=ns) or "",
                    iban=tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=ns),
                    remittance=tx.findtext("p:RmtInf/p:Ustrd", namespaces=ns) or "",
                    end_to_end_id=tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns))
           for tx in root.iterfind(".//p:CdtTrfTxInf", namespaces=ns)]
    return date.fromisoformat(day[:10]), out


class Account:
    """The fund's account at the bank: its balance runs on from one statement to the next."""

    def __init__(self, iban: str, bic: str | None, owner: str):
        self.iban, self.bic, self.owner = iban, bic, owner
        self.balance = Decimal("0.00")
        self.sequence = 0
        self.last_day: date | None = None

    def statement(self, entries: list[Entry], until: date) -> bytes:
        """The next statement: every entry booked since the last one, up to `until`."""
        self.sequence += 1
        first = self.last_day + timedelta(days=1) if self.last_day else min(e.booked_on for e in entries)
        opening = self.balance
        for e in entries:
            self.balance += e.amount if e.credit else -e.amount
        self.last_day = until
        created = datetime.combine(until + timedelta(days=1), time(5, 30))
        ident = f"{self.iban[-8:]}-{until:%Y%m%d}"
        out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS}"><BkToCstmrStmt>',
               f"<GrpHdr><MsgId>CAMT053-{ident}</MsgId><CreDtTm>{created.isoformat()}</CreDtTm></GrpHdr>",
               f"<Stmt><Id>{ident}</Id><ElctrncSeqNb>{self.sequence}</ElctrncSeqNb>"
               f"<CreDtTm>{created.isoformat()}</CreDtTm>"
               f"<FrToDt><FrDtTm>{first.isoformat()}T00:00:00</FrDtTm><ToDtTm>{until.isoformat()}T23:59:59</ToDtTm></FrToDt>"
               f"<Acct><Id><IBAN>{self.iban}</IBAN></Id><Ccy>EUR</Ccy><Ownr><Nm>{escape(self.owner)}</Nm></Ownr>"
               + (f"<Svcr><FinInstnId><BICFI>{self.bic}</BICFI></FinInstnId></Svcr>" if self.bic else "")
               + "</Acct>",
               _balance("PRCD", opening, first - timedelta(days=1)), _balance("CLBD", self.balance, until)]
        for n, e in enumerate(sorted(entries, key=lambda e: e.booked_on), 1):
            out.append(_entry(e, f"{ident}-{n}", self))
        out.append("</Stmt></BkToCstmrStmt></Document>")
        return "".join(out).encode("utf-8")


def _balance(code: str, amount: Decimal, day: date) -> str:
    return (f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{abs(amount):.2f}</Amt>'
            f"<CdtDbtInd>{'CRDT' if amount >= 0 else 'DBIT'}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>")


def _entry(e: Entry, ref: str, account: Account) -> str:
    ind = "CRDT" if e.credit else "DBIT"
    # credits received (RCDT) and transfers issued (ICDT), SEPA credit transfer
    family = "RCDT" if e.credit else "ICDT"
    day = e.booked_on.isoformat()
    out = [f'<Ntry><NtryRef>{ref}</NtryRef><Amt Ccy="EUR">{e.amount:.2f}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
           f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
           f"<AcctSvcrRef>{ref}</AcctSvcrRef>"
           f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
           "<NtryDtls>"]
    if len(e.transfers) > 1:
        out.append(f"<Btch><NbOfTxs>{len(e.transfers)}</NbOfTxs><TtlAmt Ccy=\"EUR\">{e.amount:.2f}</TtlAmt>"
                   f"<CdtDbtInd>{ind}</CdtDbtInd></Btch>")
    for t in e.transfers:
        own = (f"<Pty><Nm>{escape(account.owner)}</Nm></Pty>", f"<Id><IBAN>{account.iban}</IBAN></Id>")
        other = (f"<Pty><Nm>{escape(t.name)}</Nm></Pty>", f"<Id><IBAN>{t.iban}</IBAN></Id>" if t.iban else "")
        debtor, creditor = (other, own) if e.credit else (own, other)
        parties = "".join(f"<{role}>{who}</{role}>" + (f"<{role}Acct>{acct}</{role}Acct>" if acct else "")
                          for role, (who, acct) in (("Dbtr", debtor), ("Cdtr", creditor)))
        refs = f"<EndToEndId>{escape(t.end_to_end_id)}</EndToEndId>" if t.end_to_end_id else ""
        out.append(f"<TxDtls><Refs>{refs}</Refs>"
                   f'<Amt Ccy="EUR">{t.amount:.2f}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
                   f"<RltdPties>{parties}</RltdPties>"
                   + (f"<RmtInf><Ustrd>{escape(t.remittance)}</Ustrd></RmtInf>" if t.remittance else "")
                   + "</TxDtls>")
    out.append("</NtryDtls></Ntry>")
    return "".join(out)
