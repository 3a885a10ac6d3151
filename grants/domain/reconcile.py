"""Matching bank statement entries to what the fund expects (docs/domain.md, "Bank statements").

Pure: the caller hands in the entry and what it knows (payouts by EndToEndId, sent payouts,
file numbers); the result says what the entry is. Order of the rules:
1. not booked (PDNG, INFO)            -> ignored
2. a return (RtrInf, or a reversal) whose original EndToEndId is a payout -> payout_return
3. a debit whose EndToEndId is a sent payout                          -> payout
4. a debit matching exactly one sent payout by amount, IBAN and date  -> payout
5. a credit naming a file number in its remittance text               -> refund
6. any other credit                                                   -> donation
7. anything else (debits we did not send)                             -> unmatched, a person decides
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

# how far the booking date may lie from the day the payout file was made
BOOKING_WINDOW = timedelta(days=14)


class Tx(NamedTuple):
    """One transaction of a statement entry (a batch entry has several). A tuple, not a frozen
    dataclass: an import makes one per transaction, 100,000 for a large statement."""

    credit: bool
    amount: Decimal
    status: str                        # BOOK | PDNG | INFO
    booking_date: date | None
    end_to_end_id: str | None = None
    counterparty_name: str = ""
    counterparty_iban: str | None = None
    remittance: str = ""
    reversal: bool = False
    return_reason: str | None = None


@dataclass(frozen=True)
class PayoutRef:
    id: int
    application_id: int
    end_to_end_id: str
    amount: Decimal
    iban: str
    state: str                         # due | released | sent | booked | returned
    sent_on: date | None


class Match(NamedTuple):
    kind: str                          # ignored | payout | payout_return | refund | donation | unmatched
    payout_id: int | None = None
    application_id: int | None = None
    note: str = ""


@dataclass
class Known:
    payouts_by_e2e: dict[str, PayoutRef] = field(default_factory=dict)
    file_numbers: dict[str, int] = field(default_factory=dict)   # file number -> application id
    file_number_pattern: re.Pattern = re.compile(r"\b([A-Z]{2,6})[- ]?(\d{4})[- ]?(\d{4,6})\b")

    def sent_payouts(self):
        return [p for p in self.payouts_by_e2e.values() if p.state == "sent"]


def _norm_iban(iban: str | None) -> str:
    return (iban or "").replace(" ", "").upper()


def match(tx: Tx, known: Known) -> Match:
    if tx.status != "BOOK":
        return Match("ignored", note=f"status {tx.status}")
    if tx.amount == 0:
        return Match("ignored", note="0.00: no money moved")   # a bank's notice, not a donation
    is_return = tx.return_reason is not None or tx.reversal
    if is_return and tx.end_to_end_id:
        p = known.payouts_by_e2e.get(tx.end_to_end_id)
        if p is not None and tx.credit and p.state in ("sent", "booked") and p.amount == tx.amount:
            return Match("payout_return", p.id, p.application_id, note=tx.return_reason or "reversal")
    if not tx.credit and not is_return:
        if tx.end_to_end_id:
            p = known.payouts_by_e2e.get(tx.end_to_end_id)
            if p is not None and p.state == "sent" and p.amount == tx.amount:
                return Match("payout", p.id, p.application_id, note="EndToEndId")
        candidates = [p for p in known.sent_payouts()
                      if p.amount == tx.amount and _norm_iban(p.iban) == _norm_iban(tx.counterparty_iban)
                      and tx.counterparty_iban
                      and (p.sent_on is None or tx.booking_date is None
                           or p.sent_on - timedelta(days=1) <= tx.booking_date <= p.sent_on + BOOKING_WINDOW)]
        if len(candidates) == 1:
            p = candidates[0]
            return Match("payout", p.id, p.application_id, note="amount, IBAN and date")
        return Match("unmatched", note="debit without a matching payout" if not candidates
                     else "several payouts fit; a person decides")
    if tx.credit and not is_return:
        return match_credit(tx.remittance, tx.counterparty_name, known)
    return Match("unmatched", note="return or reversal without a matching payout")


def match_credit(remittance: str, counterparty_name: str, known: Known) -> Match:
    """Rules 5 and 6 alone, for a booked credit that is no return (most entries of a large
    statement: the importer asks this without building a Tx)."""
    for m in known.file_number_pattern.finditer(remittance.upper()):
        fn = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
        if fn in known.file_numbers:
            return Match("refund", application_id=known.file_numbers[fn], note=fn)
    return Match("donation", note=counterparty_name)
