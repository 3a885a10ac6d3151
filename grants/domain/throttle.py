"""How long a login must wait after failed attempts: backoff, never a lock.

Failures are counted three ways over the last 15 minutes (since the last success of the same
pair): for one address from one client, from one client for any address, and for one address
from anywhere. Each count has free attempts; beyond them every further attempt waits twice as
long as the one before (1 s, 2 s, 4 s ... at most 15 minutes) after the latest failure. So a
guesser slows down at once, while five wrong requests from someone else's computer cannot lock
the chair out on session day: her own device is a different pair, and the count for her address
from everywhere has far more free attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
MAX_WAIT = timedelta(minutes=15)


@dataclass(frozen=True)
class Count:
    failures: int
    latest: datetime | None


# free attempts per count
FREE_PAIR = 5          # one address from one client
FREE_CLIENT = 30       # one client, any address (a town hall's staff share one address)
FREE_ACCOUNT = 50      # one address from anywhere (a guesser with many addresses)


def wait(count: Count, free: int, now: datetime) -> timedelta:
    """How long from `now` until the next attempt may be made (zero: now)."""
    if count.failures < free or count.latest is None:
        return timedelta(0)
    delay = min(timedelta(seconds=2 ** min(count.failures - free, 20)), MAX_WAIT)
    return max(timedelta(0), count.latest + delay - now)


def longest_wait(pair: Count, client: Count, account: Count, now: datetime) -> timedelta:
    return max(wait(pair, FREE_PAIR, now), wait(client, FREE_CLIENT, now), wait(account, FREE_ACCOUNT, now))
