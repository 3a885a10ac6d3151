"""The state machine as data: who may take which step from where."""

import pytest

from grants.domain.roles import Role
from grants.domain.workflow import BY_ACTION, FINAL, SYSTEM, TRANSITIONS, WITHDRAWABLE, State, actions_from, check_transition


def test_the_contract_state_names_exist():
    names = {s.value for s in State}
    assert names >= {"draft", "submitted", "screening", "needs_info", "ready_for_committee", "on_agenda",
                     "approved", "partly_approved", "rejected", "deferred", "letter_sent", "paid", "report_due",
                     "report_submitted", "closed", "reclaim", "withdrawn", "ineligible"}


def test_every_state_is_reachable_from_draft():
    reached, frontier = {State.DRAFT}, [State.DRAFT]
    while frontier:
        s = frontier.pop()
        for t in TRANSITIONS:
            if s in t.sources and t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    assert reached == set(State)


def test_final_states_have_no_way_out():
    for t in TRANSITIONS:
        assert not (t.sources & FINAL), t.action


def test_applicant_submits_own_draft_but_cannot_approve():
    assert check_transition("submit", State.DRAFT, Role.APPLICANT)
    v = check_transition("approve", State.ON_AGENDA, Role.APPLICANT)
    assert not v and "may not" in v.reason


def test_ineligible_needs_a_staff_decision_with_reason_never_automatic():
    assert not check_transition("declare_ineligible", State.SCREENING, SYSTEM, reason="x")
    assert not check_transition("declare_ineligible", State.SCREENING, Role.STAFF, reason="  ")
    assert check_transition("declare_ineligible", State.SCREENING, Role.STAFF, reason="Baukosten")


def test_a_step_from_the_wrong_state_is_refused_with_the_state_named():
    v = check_transition("pay", State.DRAFT, Role.FINANCE)
    assert not v and "draft" in v.reason


def test_unknown_action():
    assert not check_transition("teleport", State.DRAFT, Role.ADMIN)


@pytest.mark.parametrize("state", sorted(WITHDRAWABLE))
def test_applicant_may_withdraw_before_a_decision(state):
    assert check_transition("withdraw", state, Role.APPLICANT)


@pytest.mark.parametrize("state", [State.APPROVED, State.PAID, State.CLOSED])
def test_no_withdrawal_after_a_decision(state):
    assert not check_transition("withdraw", state, Role.APPLICANT)


def test_deferred_goes_back_on_the_agenda():
    assert BY_ACTION["put_on_agenda"].target == State.ON_AGENDA
    assert check_transition("put_on_agenda", State.DEFERRED, SYSTEM)


def test_actions_from_lists_only_allowed_steps():
    staff_actions = {t.action for t in actions_from(State.SCREENING, Role.STAFF)}
    assert staff_actions == {"request_info", "mark_ready", "declare_ineligible", "withdraw"}
    assert {t.action for t in actions_from(State.SCREENING, Role.FINANCE)} == set()
