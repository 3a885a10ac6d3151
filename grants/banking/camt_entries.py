"""Checking the rows of `camt_rows` as `camt.read` checks its entries: EUR only, amounts that are
plain decimals with at most two places, a credit/debit indicator, dates, batches that add up.

`entry(row, memo)` gives `(ref, status, reversal, booking_day, value_day, bank_tx_code, txs)`,
days as ISO strings or None, each transaction in `txs` as
`(credit, cents, end_to_end_id, counterparty_name, counterparty_iban, remittance, return_reason)`:
integer cents, no Decimal or date per entry.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from grants.banking.camt import _AMOUNT, StatementError
from grants.banking.camt_rows import Plan


def _where(n: int, i: int | None) -> str:
    return f"entry {n}" if i is None else f"entry {n}, transaction {i}"


def _cents(text: str | None, ccy: str | None, n: int, i: int | None = None) -> int:
    if text is None:
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
    """The plans of one file, and what its entries repeat (days, amounts), checked once."""

    def __init__(self):
        self.plans: dict[int, tuple] = {}
        self.days: dict[tuple[bool, str], str] = {}
        self.amounts: dict[str, int] = {}

    def learn(self, plan: Plan) -> None:
        self.plans[plan.id] = plan.template

    def day(self, is_dt: bool, text: str, n: int) -> str:
        """The ISO day of a Dt or DtTm text."""
        day = self.days.get((is_dt, text))
        if day is None:
            try:
                d = date.fromisoformat(text[:10]) if is_dt else datetime.fromisoformat(text.replace("Z", "+00:00")).date()
            except ValueError:
                raise StatementError(f"{_where(n, None)}: bad date {text[:40]!r}") from None
            if len(self.days) > 1000:
                self.days.clear()
            day = self.days[(is_dt, text)] = d.isoformat()
        return day

    def cents(self, text: str | None, ccy: str | None, n: int, i: int | None = None) -> int:
        if ccy == "EUR" and text is not None:
            cents = self.amounts.get(text)
            if cents is None:
                if len(self.amounts) > 10000:
                    self.amounts.clear()
                cents = self.amounts[text] = _cents(text, ccy, n, i)
            return cents
        return _cents(text, ccy, n, i)


def entry(row: tuple, memo: Memo) -> tuple:
    """The checked entry of a row; StatementError names the entry and the problem."""
    n = row[0]
    amt, ccy, ind, rvsl, sts_at, booking, value, aref, nref, codes, extra, txs_at = memo.plans[row[1]]
    raw = row[2:]
    # each element's text stripped, "" for one without text; None in a template: no such element
    st = [t.strip() if t else "" for t in raw]
    amt_text = None if amt is None else raw[amt]
    amount = memo.cents(amt_text, None if ccy is None else raw[ccy] or "", n)
    ind = None if ind is None else st[ind]
    if ind != "CRDT" and ind != "DBIT":
        raise StatementError(f"{_where(n, None)}: credit/debit indicator {ind!r}")
    credit = ind == "CRDT"
    reversal = rvsl is not None and st[rvsl].lower() == "true"
    sts = None
    for at, own in sts_at:
        if st[at] or not own:       # the status code wins; the Sts text only when it has one
            sts = st[at]
    status = sts.upper() if sts else "BOOK"
    booking_day = None if booking is None else memo.day(booking[0], st[booking[1]], n)
    value_day = None if value is None else memo.day(value[0], st[value[1]], n)
    txs = []
    single = len(txs_at) == 1
    for i, (t_amt, t_ccy, t_ind, e2e, dbtr, cdtr, dbtr_acct, cdtr_acct, rmt, rtr) in enumerate(txs_at, 1):
        if single and (t_amt is None or (raw[t_amt] == amt_text and raw[t_ccy] == "EUR")):
            cents = amount                       # no amount of its own, or the entry's again
        else:
            cents = memo.cents(None if t_amt is None else raw[t_amt], None if t_ccy is None else raw[t_ccy] or "",
                               n, i)
        tx_credit = ((None if t_ind is None else st[t_ind]) or ind) == "CRDT"
        # the counterparty: who sent money in, or who received it
        if tx_credit == reversal:
            dbtr, dbtr_acct, cdtr, cdtr_acct = cdtr, cdtr_acct, dbtr, dbtr_acct
        name, iban = "" if dbtr is None else st[dbtr], "" if dbtr_acct is None else st[dbtr_acct]
        if not name and not iban:
            name, iban = "" if cdtr is None else st[cdtr], "" if cdtr_acct is None else st[cdtr_acct]
        txs.append((tx_credit, cents, None if e2e is None else st[e2e] or None, name or "", iban or None,
                    " ".join(st[at] for at in rmt if st[at]), None if rtr is None else st[rtr] or None))
    if not txs:
        txs.append((credit, amount, None, "", None, "" if extra is None else st[extra], None))
    elif not single:
        total = sum(c if cr == credit else -c for cr, c, *_ in txs)
        if total != amount:
            raise StatementError(f"{_where(n, None)}: the transactions add up to {_euros(total)}, the entry says "
                                 f"{_euros(amount)}")
    code = "/".join([st[at] for at in codes if st[at]])
    ref = (None if aref is None else st[aref]) or (None if nref is None else st[nref]) or ""
    return ref, status, reversal, booking_day, value_day, code, tuple(txs)
