"""Deadlines and interest (proof-of-use deadlines, interest on reclaims). Pure."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def add_months(d: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day."""
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def report_due(project_end: date, months: int = 6) -> date:
    """Proof of use is due `months` after the project ends (default 6, configurable)."""
    return add_months(project_end, months)


# reminders: days before the deadline, and days after it (then the reclaim procedure)
BEFORE = (30, 7)
AFTER = (1, 30, 60)


def reminders_due(due: date, today: date, before=BEFORE, after=AFTER) -> list[str]:
    """The reminder keys whose day has come (the caller sends each key once, ever).
    A reminder missed (e.g. the system was down) is still sent, but an earlier one is not sent
    once a later one is due: only the latest key of each kind."""
    keys = []
    passed_before = [d for d in before if today >= due - timedelta(days=d) and today <= due]
    if passed_before:
        keys.append(f"before-{min(passed_before)}")
    passed_after = [d for d in after if today >= due + timedelta(days=d)]
    if passed_after:
        keys.append(f"overdue-{max(passed_after)}")
    return keys


@dataclass(frozen=True)
class BaseRate:
    valid_from: date
    percent: Decimal          # the Basiszinssatz (§ 247 BGB), may be negative


def interest(amount: Decimal, start: date, end: date, base_rates: list[BaseRate], points: Decimal = Decimal("5")) -> Decimal:
    """Interest under § 49a (3) VwVfG: `points` percentage points above the base rate a year,
    day by day from `start` (inclusive) to `end` (exclusive), each day at the rate valid on it,
    divided by the days of its year (366 in a leap year). Never negative. Rounded to the cent."""
    if end <= start or amount <= 0:
        return Decimal("0.00")
    rates = sorted(base_rates, key=lambda r: r.valid_from)
    if not rates or rates[0].valid_from > start:
        raise ValueError("no base rate known for the start of the period")
    total = Decimal("0")
    day = start
    i = 0
    while day < end:
        while i + 1 < len(rates) and rates[i + 1].valid_from <= day:
            i += 1
        # run to the next rate change, the end of the year, or the end of the period
        next_change = rates[i + 1].valid_from if i + 1 < len(rates) else end
        year_end = date(day.year + 1, 1, 1)
        stop = min(next_change, year_end, end)
        days = (stop - day).days
        rate = max(rates[i].percent + points, Decimal("0"))
        days_in_year = 366 if calendar.isleap(day.year) else 365
        total += amount * rate / Decimal(100) * Decimal(days) / Decimal(days_in_year)
        day = stop
    return total.quantize(CENT, rounding=ROUND_HALF_UP)
