"""The arithmetic check of a proof of use under fixed-amount financing."""

from datetime import date
from decimal import Decimal as D

from grants.domain.proof import Line, ReceiptRow, check


def _r(amount, day=date(2027, 2, 1)):
    return ReceiptRow(day, "Firma", "Material", D(amount))


def test_spent_as_planned_nothing_comes_back():
    c = check([Line("Honorar", D("1000"), D("1000")), Line("Material", D("500"), D("500"))],
              [_r("1000"), _r("500")], granted=D("1200"), own_funds=D("300"), other_funding=D("0"))
    assert (c.actual_total, c.unspent, c.problems) == (D("1500"), D("0.00"), ())


def test_cheaper_project_over_financed_the_surplus_comes_back():
    c = check([Line("Honorar", D("1000"), D("800")), Line("Material", D("500"), D("500"))],
              [_r("800"), _r("500")], granted=D("1200"), own_funds=D("300"), other_funding=D("0"))
    assert c.financing_total == D("1500") and c.unspent == D("200")


def test_never_more_than_the_grant_comes_back():
    c = check([Line("Honorar", D("1000"), D("0"))], [], granted=D("800"), own_funds=D("200"), other_funding=D("500"))
    assert c.unspent == D("800")


def test_more_expensive_project_keeps_the_fixed_grant():
    c = check([Line("Honorar", D("1000"), D("1300"))], [_r("1300")], granted=D("1000"), own_funds=D("0"),
              other_funding=D("0"))
    assert c.unspent == D("0.00") and "mehr als 20 %" in c.problems[0]


def test_problems_for_the_staff():
    c = check([Line("Honorar", D("1000"), D("1000"))], [_r("900"), _r("0", date(2026, 1, 1))], granted=D("1000"),
              own_funds=D("0"), other_funding=D("0"), project_start=date(2027, 1, 1), project_end=date(2027, 3, 31))
    joined = " ".join(c.problems)
    assert "Belegliste (900.00 €)" in joined and "außerhalb des Bewilligungszeitraums" in joined
    assert "0 oder weniger" in joined
