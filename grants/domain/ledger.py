"""The fund's balances from its ledger (docs/domain.md, "The fund ledger").

available = donations - open commitments - paid + refunded, where an open commitment is
money promised by a decision and not yet paid out. A returned payout lowers "paid" and so
raises the open commitment again: the grant is still owed, available does not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Balances:
    donations: Decimal
    committed: Decimal     # open commitments
    paid: Decimal
    refunded: Decimal
    available: Decimal
    receivable: Decimal    # reclaims not yet refunded

    def as_dict(self) -> dict[str, Decimal]:
        return {"donations": self.donations, "committed": self.committed, "paid": self.paid,
                "refunded": self.refunded, "available": self.available}


def compute_balances(net_by_kind: Mapping[str, Decimal]) -> Balances:
    """`net_by_kind`: the sum of each entry kind, reversals already subtracted from the kind
    they reverse."""
    n = lambda k: net_by_kind.get(k, ZERO)  # noqa: E731
    donations = n("donation")
    commitments = n("commitment") - n("commitment_release")
    paid = n("payout") - n("payout_return")
    refunded = n("refund")
    open_commitments = commitments - paid
    available = donations - open_commitments - paid + refunded
    receivable = max(n("reclaim") - refunded, ZERO)
    return Balances(donations, open_commitments, paid, refunded, available, receivable)


def can_commit(balances: Balances, amount: Decimal) -> bool:
    """Never commit more than is available."""
    return amount > ZERO and amount <= balances.available


@dataclass(frozen=True)
class CaseMoney:
    """What the ledger says about one grant."""

    committed: Decimal       # commitments minus releases
    paid: Decimal            # payouts minus returns
    refunded: Decimal
    reclaimed: Decimal = ZERO  # claimed back by a Rückforderungsbescheid, interest included


def problems(balances: Balances, cases: dict[str, CaseMoney]) -> list[str]:
    """The invariants the ledger must always keep; an empty list means it reconciles."""
    found = []
    if balances.committed < 0:
        found.append(f"open commitments are negative: {balances.committed}")
    if balances.paid < 0:
        found.append(f"paid is negative: {balances.paid}")
    if balances.available != balances.donations - balances.committed - balances.paid + balances.refunded:
        found.append("available does not equal donations - committed - paid + refunded")
    for file_number, m in sorted(cases.items()):
        if m.paid > m.committed:
            found.append(f"{file_number}: paid {m.paid} exceeds the commitment {m.committed}")
        if m.committed < 0 or m.paid < 0:
            found.append(f"{file_number}: negative commitment or payout")
        if m.refunded > max(m.paid, m.reclaimed):     # interest may take a refund beyond the payout
            found.append(f"{file_number}: refunded {m.refunded} exceeds what was paid {m.paid}")
    return found
