"""Every screening rule with its edge cases (no database, no Prefect)."""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from grants.domain import screening as sc
from grants.domain.program_rules import ProgramRules
from grants.domain.screening import FAIL, PASS, WARN, Facts, OtherCase, Proof

TODAY = date(2026, 11, 23)
R = ProgramRules()


def facts(**kw) -> Facts:
    base = Facts(org_kind="association", register_court="Amtsgericht Osnabrück", register_number="VR 1",
                 proofs=(Proof("exemption_notice", date(2024, 1, 10)),), parish_resolution_on=None,
                 seal_confirmed=False, signatories=1, iban="DE89370400440532013000", account_holder="Verein",
                 title="Sprachcafé", requested=D("1000.00"), own_funds=D("100.00"), costs=(D("1100.00"),),
                 other_funding=(), project_start=date(2027, 1, 10), project_end=date(2027, 3, 31),
                 early_start_requested=False, submitted_on=TODAY, attachment_kinds=(),
                 declarations={"decl_not_started": True, "decl_other_funders": True, "decl_privacy": True},
                 fund_available=D("20000.00"))
    return replace(base, **kw)


@pytest.mark.parametrize("amount,result", [("499.99", FAIL), ("500.00", PASS), ("5000.00", PASS), ("5000.01", FAIL)])
def test_amount_bounds(amount, result):
    v = sc.amount_bounds(facts(requested=D(amount)), R)
    assert v.result == result
    if result == FAIL:
        assert v.kind == "ineligible" and "500,00 € bis 5.000,00 €" in v.reason


def test_amount_bounds_come_from_configuration():
    r = ProgramRules.parse({"max_amount": "2500.00"})
    assert sc.amount_bounds(facts(requested=D("2500.01")), r).result == FAIL


@pytest.mark.parametrize("own,result", [("100.00", PASS), ("100.01", FAIL), ("99.99", FAIL)])
def test_financing_plan_to_the_cent(own, result):
    v = sc.financing_plan(facts(own_funds=D(own)), R)
    assert v.result == result
    if result == FAIL:
        assert v.kind == "missing" and "0,01 €" in v.reason


def test_financing_plan_with_other_funders():
    assert sc.financing_plan(facts(costs=(D("1000"), D("600")), other_funding=(D("500"),)), R).result == PASS


@pytest.mark.parametrize("issued,result", [
    (date(2021, 11, 23), PASS),   # exactly 5 years old on the day of submission: still valid
    (date(2021, 11, 22), FAIL),   # one day more
])
def test_exemption_notice_age(issued, result):
    v = sc.non_profit_proof(facts(proofs=(Proof("exemption_notice", issued),), project_end=date(2026, 11, 23)), R)
    assert v.result == result


def test_notice_60a_counts_three_years_and_only_without_an_exemption_notice():
    assert sc.non_profit_proof(facts(proofs=(Proof("notice_60a", date(2023, 11, 23)),),
                                     project_end=date(2026, 11, 23)), R).result == PASS
    assert sc.non_profit_proof(facts(proofs=(Proof("notice_60a", date(2023, 11, 22)),)), R).result == FAIL
    # an old exemption notice is not saved by a newer 60a notice
    v = sc.non_profit_proof(facts(proofs=(Proof("exemption_notice", date(2019, 1, 1)),
                                          Proof("notice_60a", date(2025, 1, 1)))), R)
    assert v.result == FAIL


def test_proof_expiring_during_the_project_is_a_warning():
    v = sc.non_profit_proof(facts(proofs=(Proof("exemption_notice", date(2022, 2, 1)),),
                                  project_end=date(2027, 3, 31)), R)
    assert v.result == WARN and "01.02.2027" in v.reason


def test_missing_proof_and_register():
    assert sc.non_profit_proof(facts(proofs=()), R).kind == "missing"
    assert sc.non_profit_proof(facts(register_number=None), R).result == FAIL


def test_parish_needs_resolution_two_signatories_and_seal():
    ok = facts(org_kind="parish", register_court=None, register_number=None, proofs=(),
               parish_resolution_on=date(2026, 10, 1), seal_confirmed=True, signatories=2,
               signatory_functions=("Pfarrer, Vorsitzender des Kirchenvorstands", "Mitglied des Kirchenvorstands"))
    assert sc.non_profit_proof(ok, R).result == PASS
    assert sc.non_profit_proof(replace(ok, signatory_functions=("stellv. Vorsitzende", "Mitglied")), R).result == PASS
    # chair or deputy plus a member: without either of the first, a person has to look
    nobody_leads = sc.non_profit_proof(replace(ok, signatory_functions=("Mitglied", "Küsterin")), R)
    assert nobody_leads.result == WARN and "kein Vorsitz" in nobody_leads.reason
    no_seal = sc.non_profit_proof(replace(ok, seal_confirmed=False), R)
    assert no_seal.result == FAIL and no_seal.kind == "missing" and "Kirchensiegel" in no_seal.reason
    assert "zwei Unterschriftsberechtigte" in sc.non_profit_proof(replace(ok, signatories=1), R).reason


def test_applicant_type_from_configuration():
    r = ProgramRules.parse({"allowed_kinds": ["association", "parish"]})
    assert sc.applicant_type(facts(org_kind="other"), r).result == FAIL
    assert sc.applicant_type(facts(org_kind="parish"), r).result == PASS


def test_project_dates():
    assert sc.project_dates(facts(), R).result == PASS
    started = sc.project_dates(facts(project_start=date(2026, 11, 1)), R)
    assert started.result == FAIL and started.kind == "ineligible"
    early = sc.project_dates(facts(project_start=date(2026, 11, 1), early_start_requested=True), R)
    assert early.result == WARN and early.needs_judgement
    assert sc.project_dates(facts(project_end=date(2026, 12, 1)), R).kind == "missing"
    assert sc.project_dates(facts(project_start=None), R).kind == "missing"
    assert sc.project_dates(facts(project_end=date(2028, 6, 1)), R).result == WARN


def test_required_attachments_from_configuration():
    r = ProgramRules.parse({"required_attachments": ["quote"]})
    v = sc.attachments(facts(), r)
    assert v.result == FAIL and "Angebot" in v.reason
    assert sc.attachments(facts(attachment_kinds=("quote",)), r).result == PASS


def test_duplicates_by_overlap_or_similar_title():
    other = OtherCase("DQD-2026-0001", "Sprachcafe im Gemeindehaus", date(2027, 6, 1), date(2027, 7, 1))
    assert sc.duplicates(facts(open_cases_same_org=(other,)), R).result == WARN       # similar title
    far = OtherCase("DQD-2026-0002", "Fahrradwerkstatt", date(2028, 1, 1), date(2028, 2, 1))
    assert sc.duplicates(facts(open_cases_same_org=(far,)), R).result == PASS
    overlap = OtherCase("DQD-2026-0003", "Fahrradwerkstatt", date(2027, 3, 1), date(2027, 4, 1))
    assert sc.duplicates(facts(open_cases_same_org=(overlap,)), R).result == WARN


def test_same_iban_at_another_organisation():
    v = sc.bank_account(facts(other_orgs_same_iban=("Verein B",)), R)
    assert v.result == WARN and "Verein B" in v.reason
    assert sc.bank_account(facts(iban=None), R).kind == "missing"


def test_fund_too_small_is_a_warning_not_a_refusal():
    v = sc.fund_balance(facts(fund_available=D("999.99")), R)
    assert v.result == WARN and v.kind is None


def test_outcomes():
    ok = sc.screen(facts(), R)
    assert sc.decide(ok, R).action == "await_staff"            # purpose needs judgement, staff confirm by default
    auto = ProgramRules.parse({"staff_confirmation": False})
    only_purpose = [v for v in ok if v.rule != "purpose"]
    assert sc.decide(only_purpose, auto).action == "mark_ready"
    missing = sc.screen(facts(own_funds=D("0.00"), iban=None), R)
    out = sc.decide(missing, R)
    assert out.action == "request_info"
    assert "Finanzierungsplan" in out.message and "Bankverbindung" in out.message
    rejectable = sc.screen(facts(requested=D("6000.00"), costs=(D("6100.00"),)), R)
    assert sc.decide(rejectable, R).action == "propose_reject"  # never an automatic rejection


def test_an_association_names_who_signs_for_it():
    f = facts(org_kind="association", signatories=0)
    v = sc.non_profit_proof(f, R)
    assert v.result == FAIL and v.kind == "missing" and "Unterschriftsberechtigten" in v.reason


def test_the_form_names_the_program_s_own_bounds():
    """A city that sets 1,000–3,000 € must not tell applicants '500 und 5.000'."""
    from datetime import timedelta
    from pathlib import Path

    from grants.domain import form_spec

    spec = form_spec.load(Path(__file__).resolve().parents[2] / "forms", "dein_quartier_und_du")
    today = date(2026, 12, 3)
    found = [m for m in form_spec.missing(spec, {"requested": D("5000.00"), "project_start": today + timedelta(days=9)},
                                          "association", min_amount=D("1000"), max_amount=D("3000"), today=today)
             if m.field == "requested"]
    assert [(m.message % m.kwargs) for m in found] == ["Der Zuschuss muss zwischen 1.000 und 3.000 Euro liegen."]


def test_a_project_that_would_start_before_the_next_session_is_flagged():
    """DOMAIN: no start before the decision unless early start was granted; the decision is the
    next session's."""
    f = facts(project_start=date(2026, 12, 10), project_end=date(2027, 1, 31), submitted_on=date(2026, 12, 1),
              next_decision_on=date(2026, 12, 16), early_start_requested=False)
    v = sc.project_dates(f, R)
    assert v.result == WARN and "16.12.2026" in v.reason and "vorzeitigen Maßnahmebeginn" in v.reason
    assert sc.project_dates(replace(f, next_decision_on=date(2026, 12, 9)), R).result == PASS
    assert sc.project_dates(replace(f, next_decision_on=None), R).result == PASS          # no session planned
