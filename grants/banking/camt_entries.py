"""Checking the rows that `camt.read` yields: EUR only, amounts that are plain decimals with at
most two places, a credit/debit indicator, dates, batches that add up. This half of an import
runs in the booking process, the reading half possibly in another.

`entry(row, memo)` gives `(ref, status, reversal, booking_day, value_day, bank_tx_code, txs)`,
days as ISO strings or None, each transaction in `txs` as
`(credit, cents, end_to_end_id, counterparty_name, counterparty_iban, remittance, return_reason)`:
integer cents, no Decimal or date per entry. What entries repeat (indicator, status, days,
bank transaction code, amounts) is checked once per file and remembered.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import overload

from grants.banking.camt_header import _AMOUNT, StatementError
from grants.domain import text

_REMEMBER = 10_000            # repeating parts and amounts remembered at most; then start over


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


def _day(is_dt: bool, text: str, n: int) -> str:
    try:
        d = date.fromisoformat(text[:10]) if is_dt else datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise StatementError(f"{_where(n, None)}: bad date {text[:40]!r}") from None
    return d.isoformat()


@overload
def _text(row: tuple, at: int) -> str: ...
@overload
def _text(row: tuple, at: None) -> None: ...
@overload
def _text(row: tuple, at: int | None) -> str | None: ...
def _text(row: tuple, at: int | None) -> str | None:
    """None: no such element; "": an element without text."""
    if at is None:
        return None
    t = row[at]
    return t.strip() if t else ""


def _checked(value: str, n: int, i: int | None) -> str:
    try:
        return text.clean(value)
    except ValueError as bad:
        raise StatementError(f"{_where(n, i)}: a control character ({bad}) in a name or the payment reference") from None


def _at(at: int | None) -> int | None:
    return None if at is None else at + 2     # a template counts from the row's first text


class _Plan:
    """A template of `camt.read`, in places of the row, with what of it repeats from entry to entry."""

    __slots__ = ("amt", "ccy", "ind", "rvsl", "sts", "booking", "value", "aref", "nref", "codes", "extra", "txs",
                 "repeating")

    def __init__(self, template: tuple):
        amt, ccy, ind, rvsl, sts, booking, value, aref, nref, codes, extra, txs = template
        self.amt, self.ccy, self.ind, self.rvsl = _at(amt), _at(ccy), _at(ind), _at(rvsl)
        self.sts = tuple((at + 2, own) for at, own in sts)
        self.booking = None if booking is None else (booking[0], booking[1] + 2)
        self.value = None if value is None else (value[0], value[1] + 2)
        self.aref, self.nref, self.extra = _at(aref), _at(nref), _at(extra)
        self.codes = tuple(at + 2 for at in codes)
        self.txs = tuple((_at(a), _at(c), _at(i), _at(e2e), _at(dn), _at(cn), _at(da), _at(ca),
                          tuple(at + 2 for at in rmt), _at(r)) for a, c, i, e2e, dn, cn, da, ca, rmt, r in txs)
        places = [at for at in (self.ind, self.rvsl, *(at for at, _ in self.sts), self.booking and self.booking[1],
                                self.value and self.value[1], *self.codes, *(tx[2] for tx in self.txs))
                  if at is not None]
        # row -> the texts of those places, a tuple (itemgetter gives a bare text for one place)
        self.repeating = (itemgetter(*places) if len(places) > 1 else
                          (lambda row, at=places[0]: (row[at],)) if places else (lambda row: ()))


class Memo:
    """The plans of one file, and what its entries repeat, checked once."""

    def __init__(self):
        self.plans: dict[int, _Plan] = {}
        self.repeating: dict[tuple, tuple] = {}
        self.amounts: dict[str, int] = {}

    def learn(self, plan: tuple) -> None:
        """A plan of `camt.read`: (None, plan id, template)."""
        self.plans[plan[1]] = _Plan(plan[2])

    def cents(self, text: str | None, ccy: str | None, n: int, i: int | None = None) -> int:
        if ccy == "EUR" and text is not None:
            cents = self.amounts.get(text)
            if cents is None:
                if len(self.amounts) >= _REMEMBER:
                    self.amounts.clear()
                cents = self.amounts[text] = _cents(text, ccy, n, i)
            return cents
        return _cents(text, ccy, n, i)


def _repeating(row: tuple, plan: _Plan, n: int) -> tuple:
    """(credit, reversal, status, booking day, value day, bank transaction code, credit of each transaction)"""
    ind = _text(row, plan.ind)
    if ind != "CRDT" and ind != "DBIT":
        raise StatementError(f"{_where(n, None)}: credit/debit indicator {ind!r}")
    rvsl = _text(row, plan.rvsl)
    sts = None
    for at, own in plan.sts:
        t = _text(row, at)
        if t or not own:            # the status code wins; the Sts text only when it has one
            sts = t
    booking = None if plan.booking is None else _day(plan.booking[0], _text(row, plan.booking[1]), n)
    value = None if plan.value is None else _day(plan.value[0], _text(row, plan.value[1]), n)
    return (ind == "CRDT", rvsl is not None and rvsl.lower() == "true", sts.upper() if sts else "BOOK", booking, value,
            "/".join(t for t in (_text(row, at) for at in plan.codes) if t),
            tuple((_text(row, tx[2]) or ind) == "CRDT" for tx in plan.txs))


def entry(row: tuple, memo: Memo) -> tuple:
    """The checked entry of a row; StatementError names the entry and the problem."""
    n, plan = row[0], memo.plans[row[1]]
    amt_text = None if plan.amt is None else row[plan.amt]
    amount = memo.cents(amt_text, None if plan.ccy is None else row[plan.ccy] or "", n)
    key = (plan, plan.repeating(row))
    known = memo.repeating.get(key)
    if known is None:
        if len(memo.repeating) >= _REMEMBER:
            memo.repeating.clear()
        known = memo.repeating[key] = _repeating(row, plan, n)
    credit, reversal, status, booking_day, value_day, code, tx_credits = known
    txs = []
    single = len(plan.txs) == 1
    for i, (t_amt, t_ccy, _, e2e, dbtr, cdtr, dbtr_acct, cdtr_acct, rmt, rtr) in enumerate(plan.txs, 1):
        if single and (t_amt is None or (row[t_amt] == amt_text and t_ccy is not None and row[t_ccy] == "EUR")):
            cents = amount                       # no amount of its own, or the entry's again
        else:
            cents = memo.cents(None if t_amt is None else row[t_amt], None if t_ccy is None else row[t_ccy] or "",
                               n, i)
        tx_credit = tx_credits[i - 1]
        # the counterparty: who sent money in, or who received it
        if tx_credit == reversal:
            dbtr, dbtr_acct, cdtr, cdtr_acct = cdtr, cdtr_acct, dbtr, dbtr_acct
        name, iban = _text(row, dbtr), _text(row, dbtr_acct)
        if not name and not iban:
            name, iban = _text(row, cdtr), _text(row, cdtr_acct)
        remittance = (_text(row, rmt[0]) if len(rmt) == 1 else
                      " ".join(t for t in (_text(row, at) for at in rmt) if t))
        name = name or ""
        if not (name.isascii() and remittance.isascii()):
            # XML keeps C0 controls out already; C1 controls and direction overrides it lets through
            name, remittance = _checked(name, n, i), _checked(remittance, n, i)
        txs.append((tx_credit, cents, _text(row, e2e) or None, name or "", iban or None, remittance,
                    _text(row, rtr) or None))
    if not txs:
        txs.append((credit, amount, None, "", None, _text(row, plan.extra) or "", None))
    elif not single:
        total = sum(c if cr == credit else -c for cr, c, *_ in txs)
        if total != amount:
            raise StatementError(f"{_where(n, None)}: the transactions add up to {_euros(total)}, the entry says "
                                 f"{_euros(amount)}")
    return (_text(row, plan.aref) or _text(row, plan.nref) or "", status, reversal, booking_day, value_day, code,
            tuple(txs))
