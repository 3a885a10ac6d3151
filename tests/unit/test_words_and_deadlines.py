from datetime import date
from decimal import Decimal as D

from grants.domain.deadlines import add_months
from grants.domain.words import euro_words, number


def test_amounts_in_words():
    assert euro_words(D("1000.00")) == "eintausend Euro"
    assert euro_words(D("1250.50")) == "eintausendzweihundertfünfzig Euro und fünfzig Cent"
    assert euro_words(D("101.01")) == "einhundertein Euro und ein Cent"
    assert euro_words(D("5000.00")) == "fünftausend Euro"
    assert number(1) == "eins" and number(31) == "einunddreißig"


def test_report_deadline_six_months_after_the_end_with_short_months():
    assert add_months(date(2027, 3, 31), 6) == date(2027, 9, 30)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)       # leap year
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
