"""The fund's balances from its ledger (DOMAIN.md "The fund").

available = donations - open commitments - paid + refunded, where an open commitment is
money promised by a decision and not yet paid out. A returned payout lowers "paid" and so
raises the open commitment again: the grant is still owed, available does not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

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
