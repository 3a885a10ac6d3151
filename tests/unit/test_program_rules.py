"""A program's rules: parsed once, every default in one place, nonsense refused (no database)."""

from dataclasses import fields
from datetime import date
from decimal import Decimal as D

import pytest

from grants.domain import program_rules
from grants.domain.deadlines import BaseRate
from grants.domain.eligibility import PROOF_YEARS
from grants.domain.program_rules import ProgramRules, ProgramRulesError


def test_empty_rules_are_the_defaults():
    r = ProgramRules.parse({})
    assert r == ProgramRules.parse(None) == ProgramRules()
    assert (r.min_amount, r.max_amount) == (D("500.00"), D("5000.00"))
    assert r.allowed_kinds == {"association", "parish", "other"}
    assert dict(r.proof_years) == PROOF_YEARS
    assert (r.required_attachments, r.instalments, r.base_rates) == ((), (), ())
    assert r.staff_confirmation and r.purpose_judgement and not r.hold_letters
    assert (r.max_project_days, r.report_months, r.reclaim_pay_days) == (366, 6, 30)
    assert (r.draft_retention_months, r.retention_years) == (12, 10)
    assert r.proof_form == "verwendungsnachweis"


def test_every_field_can_be_set_and_nothing_else():
    assert {f.name for f in fields(ProgramRules)} == set(program_rules._PARSERS)


def test_a_full_configuration():
    r = ProgramRules.parse({
        "min_amount": "100.00", "max_amount": 2500, "allowed_kinds": ["association"],
        "proof_years": {"notice_60a": 2}, "required_attachments": ["quote", "flyer"],
        "staff_confirmation": False, "purpose_judgement": False, "max_project_days": 200, "report_months": 3,
        "instalments": [70, 30], "hold_letters": True, "proof_form": "kurz",
        "base_rates": [{"from": "2025-07-01", "percent": "1.27"}, {"from": "2025-01-01", "percent": -0.5}],
        "reclaim_pay_days": 14, "draft_retention_months": 24, "retention_years": 6,
    })
    assert (r.min_amount, r.max_amount) == (D("100.00"), D("2500"))
    assert r.allowed_kinds == frozenset({"association"})
    assert dict(r.proof_years) == {**PROOF_YEARS, "notice_60a": 2}     # the other kinds keep the law's years
    assert r.required_attachments == ("quote", "flyer") and r.instalments == (70, 30)
    assert r.base_rates == (BaseRate(date(2025, 1, 1), D("-0.5")), BaseRate(date(2025, 7, 1), D("1.27")))  # oldest first
    assert (r.report_months, r.reclaim_pay_days, r.draft_retention_months, r.retention_years) == (3, 14, 24, 6)
    assert r.hold_letters and not r.staff_confirmation and r.proof_form == "kurz"


def test_the_amount_columns_win_over_the_dict():
    r = ProgramRules.parse({"max_amount": "2500.00"}, D("750.00"), D("3000.00"))
    assert (r.min_amount, r.max_amount) == (D("750.00"), D("3000.00"))
    assert ProgramRules.parse({"max_amount": "2500.00"}, D("750.00")).max_amount == D("2500.00")


@pytest.mark.parametrize("stored,key", [
    ({"hold_leters": True}, "hold_leters"),
    ({"report_months": "6"}, "report_months"),
    ({"report_months": 6.5}, "report_months"),
    ({"retention_years": True}, "retention_years"),
    ({"hold_letters": "yes"}, "hold_letters"),
    ({"staff_confirmation": 0}, "staff_confirmation"),
    ({"max_amount": "viel"}, "max_amount"),
    ({"max_amount": True}, "max_amount"),
    ({"allowed_kinds": "association"}, "allowed_kinds"),
    ({"allowed_kinds": ["asociation"]}, "allowed_kinds"),
    ({"required_attachments": "quote"}, "required_attachments"),
    ({"required_attachments": [1]}, "required_attachments[0]"),
    ({"instalments": [70, "30"]}, "instalments[1]"),
    ({"proof_years": {"notice_60b": 3}}, "proof_years.notice_60b"),
    ({"proof_years": {"notice_60a": "3"}}, "proof_years.notice_60a"),
    ({"proof_form": ""}, "proof_form"),
    ({"base_rates": [{"from": "1.1.2025", "percent": "1"}]}, "base_rates[0].from"),
    ({"base_rates": [{"from": "2025-01-01", "percent": "1", "note": "x"}]}, "base_rates[0]"),
    ({"base_rates": [{"from": "2025-01-01", "percent": "NaN"}]}, "base_rates[0].percent"),
])
def test_unknown_keys_and_wrong_types_are_refused_by_name(stored, key):
    with pytest.raises(ProgramRulesError) as e:
        ProgramRules.parse(stored)
    assert e.value.key == key and repr(key) in str(e.value)
    assert isinstance(e.value, ValueError)


def test_not_a_dict_is_refused():
    with pytest.raises(ProgramRulesError):
        ProgramRules.parse(["hold_letters"])


def test_rules_are_frozen():
    r = ProgramRules.parse({"proof_years": {"notice_60a": 2}})
    with pytest.raises(AttributeError):
        r.report_months = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        r.proof_years["notice_60a"] = 9  # type: ignore[index]
    hash(r)


def test_parsed_once_per_content():
    stored = {"report_months": 3}
    first = program_rules.from_stored(stored, D("500.00"), D("5000.00"))
    assert program_rules.from_stored({"report_months": 3}, D("500.00"), D("5000.00")) is first
    stored["report_months"] = 4           # a JSON column changed in place: a new key, no stale answer
    assert program_rules.from_stored(stored, D("500.00"), D("5000.00")).report_months == 4
    # equal to Python but not the same rule: True is no number, 500 is printed unlike 500.00
    with pytest.raises(ProgramRulesError):
        program_rules.from_stored({"report_months": True})
    assert str(program_rules.from_stored({}, D("500")).min_amount) == "500"
    assert str(program_rules.from_stored({}, D("500.00")).min_amount) == "500.00"


def test_values_that_are_not_json_are_parsed_uncached():
    r = program_rules.from_stored({"base_rates": [{"from": date(2025, 1, 1), "percent": D("2.27")}]})
    assert r.base_rates == (BaseRate(date(2025, 1, 1), D("2.27")),)
