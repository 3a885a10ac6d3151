"""Deadlines, reminders and § 49a interest: leap years, partial months, rate changes."""

from datetime import date
from decimal import Decimal as D

import pytest

from grants.domain.deadlines import BaseRate, interest, reminders_due, report_due

RATES = [BaseRate(date(2024, 1, 1), D("3.62")), BaseRate(date(2024, 7, 1), D("3.37")),
         BaseRate(date(2025, 1, 1), D("2.27")), BaseRate(date(2025, 7, 1), D("1.27"))]


def test_report_due_six_months_after_the_end():
    assert report_due(date(2027, 3, 31)) == date(2027, 9, 30)
    assert report_due(date(2027, 8, 31)) == date(2028, 2, 29)      # into a leap year
    assert report_due(date(2026, 8, 29), months=3) == date(2026, 11, 29)


def test_a_full_ordinary_year_at_one_rate():
    rates = [BaseRate(date(2023, 1, 1), D("1.00"))]
    assert interest(D("1000.00"), date(2023, 1, 1), date(2024, 1, 1), rates) == D("60.00")


def test_a_full_leap_year_counts_366_days():
    rates = [BaseRate(date(2024, 1, 1), D("1.00"))]
    assert interest(D("1000.00"), date(2024, 1, 1), date(2025, 1, 1), rates) == D("60.00")
    # one day in a leap year is 1/366 of the year's interest
    assert interest(D("36600.00"), date(2024, 2, 29), date(2024, 3, 1), rates) == D("6.00")


def test_partial_months_and_a_rate_change():
    # 1000 € from 15 June to 15 July 2024: 16 days at 3.62+5, 14 days at 3.37+5, leap year
    expected = D("1000") * (D("8.62") / 100 * 16 / 366 + D("8.37") / 100 * 14 / 366)
    assert interest(D("1000.00"), date(2024, 6, 15), date(2024, 7, 15), RATES) == expected.quantize(D("0.01"))


def test_across_the_new_year():
    got = interest(D("2000.00"), date(2024, 12, 1), date(2025, 2, 1), RATES)
    expected = D("2000") * (D("8.37") / 100 * 31 / 366 + D("7.27") / 100 * 31 / 365)
    assert got == expected.quantize(D("0.01"))


def test_never_negative_and_nothing_for_an_empty_period():
    low = [BaseRate(date(2020, 1, 1), D("-6.00"))]
    assert interest(D("1000.00"), date(2020, 1, 1), date(2021, 1, 1), low) == D("0.00")
    assert interest(D("1000.00"), date(2025, 1, 1), date(2025, 1, 1), RATES) == D("0.00")
    with pytest.raises(ValueError):
        interest(D("1000.00"), date(2019, 1, 1), date(2020, 1, 1), RATES)


@pytest.mark.parametrize("today,keys", [
    (date(2027, 8, 30), []),
    (date(2027, 8, 31), ["before-30"]),
    (date(2027, 9, 23), ["before-7"]),
    (date(2027, 9, 30), ["before-7"]),
    (date(2027, 10, 1), ["overdue-1"]),
    (date(2027, 11, 1), ["overdue-30"]),
    (date(2028, 3, 1), ["overdue-60"]),
])
def test_reminders(today, keys):
    assert reminders_due(date(2027, 9, 30), today) == keys
