"""The one clock and the city's time zone.

Every "now" and "today" of the application comes from here: stored times are UTC, dates and
times people see or reckon with (deadlines, session days, letters, mails, calendars) are
Europe/Berlin. Tests and the demo set the clock; a process started with GRANTS_CLOCK_OFFSET
(seconds, may be negative) runs that far from the wall clock, so that the test suite can run
on any day of the year and the command-line processes it starts share its clock.

Talking to Prefect is the exception: its server schedules by the wall clock, so code that asks
it for due runs uses `wall()`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TIMEZONE = "Europe/Berlin"
BERLIN = ZoneInfo(TIMEZONE)
OFFSET_VARIABLE = "GRANTS_CLOCK_OFFSET"

_offset = timedelta(seconds=float(os.environ.get(OFFSET_VARIABLE) or 0))
_frozen: datetime | None = None


def wall() -> datetime:
    """The machine's real time, aware, in UTC."""
    return datetime.now(UTC)


def now() -> datetime:
    """The application's time, aware, in UTC."""
    if _frozen is not None:
        return _frozen
    return wall() + _offset


def today() -> date:
    """The city's date (Berlin), not the machine's or UTC's: at 00:30 in Berlin it is already tomorrow."""
    return now().astimezone(BERLIN).date()


def local(moment: datetime) -> datetime:
    """A stored (UTC) time as Berlin local time; naive values are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BERLIN)


def local_date(moment: datetime) -> date:
    return local(moment).date()


def at(day: date, clock_time: time) -> datetime:
    """The UTC moment of a Berlin wall-clock time on a day (summer time included): 14:00 stays
    14:00 for the people in the room, whatever the season."""
    return datetime.combine(day, clock_time, BERLIN).astimezone(UTC)


def offset() -> timedelta:
    return _offset


def set_to(moment: datetime, *, frozen: bool = False) -> None:
    """Let the clock run from `moment` on (or stand at it, `frozen`)."""
    global _offset, _frozen
    if moment.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    if frozen:
        _frozen = moment.astimezone(UTC)
    else:
        _frozen = None
        _offset = moment - wall()


def set_offset(value: timedelta) -> None:
    global _offset, _frozen
    _offset, _frozen = value, None


@contextmanager
def travel(moment: datetime, *, frozen: bool = False) -> Iterator[None]:
    """The clock at `moment` for the block, as it was afterwards (the demo lives its past this way)."""
    global _offset, _frozen
    saved = (_offset, _frozen)
    set_to(moment, frozen=frozen)
    try:
        yield
    finally:
        _offset, _frozen = saved
