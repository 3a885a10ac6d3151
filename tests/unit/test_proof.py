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


# ---- settling a grant after the proof of use ----------------------------------------------------

from grants.domain.proof import settle  # noqa: E402


def test_settle_paid_in_full_and_money_unspent_is_reclaimed():
    s = settle(D("1500.00"), paid=D("1500.00"), unspent=D("300.00"))
    assert (s.keep, s.still_to_pay, s.release, s.reclaim) == (D("1200.00"), 0, 0, D("300.00"))


def test_settle_second_instalment_only_as_far_as_it_was_spent():
    # 750 paid, 300 unspent: 450 more are owed to the recipient, 300 of the commitment released
    s = settle(D("1500.00"), paid=D("750.00"), unspent=D("300.00"))
    assert (s.keep, s.still_to_pay, s.release, s.reclaim) == (D("1200.00"), D("450.00"), D("300.00"), 0)


def test_settle_spent_less_than_the_first_instalment():
    s = settle(D("1500.00"), paid=D("750.00"), unspent=D("1000.00"))
    assert (s.keep, s.still_to_pay, s.release, s.reclaim) == (D("500.00"), 0, D("750.00"), D("250.00"))


def test_settle_never_reclaims_more_than_the_grant_nor_less_than_nothing():
    assert settle(D("1000.00"), paid=D("1000.00"), unspent=D("5000.00")).reclaim == D("1000.00")
    assert settle(D("1000.00"), paid=D("1000.00"), unspent=D("-5.00")).reclaim == 0
    assert settle(D("1000.00"), paid=D("1000.00"), unspent=D("0.01")).reclaim == D("0.01")


# ---- what keeps a proof of use from being sent ----------------------------------------------------

from pathlib import Path  # noqa: E402

from grants.domain import form_spec  # noqa: E402
from grants.domain.proof import PlanLine, missing  # noqa: E402

SPEC = form_spec.load(Path(__file__).resolve().parents[2] / "forms", "verwendungsnachweis")


def _values(**kw):
    v = {"report": "Bericht", "participants_actual": 40, "own_funds_actual": D("0.00"), "other_funding_actual": D("0.00"),
         "actual_costs": [PlanLine(1, "Honorar", D("1000.00"), D("1000.00")), PlanLine(2, "Miete", D("500.00"), D("0.00"))],
         "receipts": [ReceiptRow(date(2026, 6, 1), "Frau A.", "Honorar", D("1000.00"))]}
    v.update(kw)
    return v


def test_a_complete_proof_misses_nothing_and_zero_counts_as_an_answer():
    assert missing(SPEC, _values()) == []
    assert missing(SPEC, _values(participants_actual=0)) == []


def test_every_plan_line_needs_an_amount():
    lines = [PlanLine(1, "Honorar", D("1000.00"), D("1000.00")), PlanLine(2, "Miete", D("500.00"), None)]
    assert [m.field for m in missing(SPEC, _values(actual_costs=lines))] == ["actual_costs"]


def test_receipts_must_add_up_to_the_spending_to_the_cent():
    found = missing(SPEC, _values(receipts=[ReceiptRow(date(2026, 6, 1), "Frau A.", "Honorar", D("999.99"))]))
    assert [(m.field, m.kwargs) for m in found] == [("receipts", {"receipts": "999.99", "actual": "1000.00"})]


def test_required_report_and_counts():
    assert {m.field for m in missing(SPEC, _values(report="", participants_actual=None, receipts=[]))} == {
        "report", "participants_actual", "receipts"}
