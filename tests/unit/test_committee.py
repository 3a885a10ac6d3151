"""Quorum, majority, ties, recusal and the written procedure (no database)."""

from datetime import UTC, date, datetime

import pytest

from grants.domain.committee import ABSTAIN, NO, OBJECT, YES, Member, circulation, next_sessions, quorum, tally, vote_refusal

M = [Member(1, True, chair=True), Member(2, True), Member(3, True), Member(4, True), Member(5, True),
     Member(6, False)]   # five voting, one advisory


@pytest.mark.parametrize("present,reached", [({1, 2, 3}, True), ({1, 2}, False), ({1, 2, 6}, False),
                                             ({1, 2, 3, 4, 5}, True)])
def test_quorum_more_than_half_of_voting_members_at_least_three(present, reached):
    q = quorum(M, present)
    assert q.needed == 3 and q.voting_members == 5 and q.reached == reached


def test_quorum_needs_three_even_in_a_small_committee():
    small = [Member(1, True), Member(2, True), Member(3, True), Member(4, True)]
    assert quorum(small, {1, 2}).needed == 3     # half of 4 is 2, more than half is 3
    tiny = [Member(1, True), Member(2, True)]
    assert not quorum(tiny, {1, 2}).reached      # never fewer than three
    assert not quorum(M, {1, 2, 3}, all_invited=False).reached


def test_simple_majority_of_votes_cast_abstentions_not_counted():
    t = tally(M, {1: YES, 2: YES, 3: NO, 4: ABSTAIN, 5: ABSTAIN}, {1, 2, 3, 4, 5}, set())
    assert (t.yes, t.no, t.abstain, t.carried) == (2, 1, 2, True)


def test_a_tie_fails_unless_the_chair_decides():
    votes = {1: YES, 2: YES, 3: NO, 4: NO}
    assert not tally(M, votes, {1, 2, 3, 4}, set()).carried
    by_chair = tally(M, votes, {1, 2, 3, 4}, set(), chair_decides_tie=True)
    assert by_chair.carried and by_chair.decided_by_chair
    chair_no = tally(M, {1: NO, 2: NO, 3: YES, 4: YES}, {1, 2, 3, 4}, set(), chair_decides_tie=True)
    assert not chair_no.carried


def test_a_conflicted_member_is_excluded_and_their_vote_not_counted():
    t = tally(M, {1: YES, 2: NO, 3: NO, 4: YES}, {1, 2, 3, 4}, conflicted_ids={2})
    assert (t.yes, t.no, t.excluded, t.carried) == (2, 1, (2,), True)
    assert "Befangenheit" in vote_refusal(M[1], {1, 2, 3}, {2}, YES)
    assert "Beratende" in vote_refusal(M[5], {6}, set(), YES)
    assert "anwesende" in vote_refusal(M[2], {1}, set(), YES)
    assert vote_refusal(M[2], {3}, set(), "maybe")
    assert vote_refusal(M[2], {3}, set(), NO) is None


def test_advisory_votes_do_not_count():
    t = tally(M, {1: NO, 6: YES}, {1, 6}, set())
    assert (t.yes, t.no) == (0, 1)


DEADLINE = datetime(2026, 12, 1, 12, tzinfo=UTC)
BEFORE = datetime(2026, 11, 30, tzinfo=UTC)
AFTER = datetime(2026, 12, 2, tzinfo=UTC)


def test_written_procedure_one_objection_ends_it():
    r = circulation(M, {1: YES, 2: OBJECT}, set(), deadline=DEADLINE, now=BEFORE)
    assert r.state == "ended_by_objection"


def test_written_procedure_open_until_all_voted_then_majority():
    assert circulation(M, {1: YES}, set(), deadline=DEADLINE, now=BEFORE).state == "open"
    all_votes = {1: YES, 2: YES, 3: YES, 4: NO, 5: ABSTAIN}
    assert circulation(M, all_votes, set(), deadline=DEADLINE, now=BEFORE).state == "carried"
    # a conflicted member is not waited for
    assert circulation(M, {1: YES, 3: YES, 4: YES, 5: YES}, {2}, deadline=DEADLINE, now=BEFORE).state == "carried"
    # silence past the deadline is no consent
    assert circulation(M, {1: YES, 2: YES}, set(), deadline=DEADLINE, now=AFTER).state == "ended_by_objection"


def test_sessions_every_second_week():
    # 7 January 2026 and every 14 days after it: 322 days later is 25 November
    assert next_sessions(date(2026, 1, 7), 14, date(2026, 11, 23)) == [date(2026, 11, 25), date(2026, 12, 9),
                                                                       date(2026, 12, 23)]
    assert next_sessions(date(2026, 1, 7), 14, date(2026, 11, 25))[0] == date(2026, 11, 25)
    assert next_sessions(date(2026, 1, 7), 14, date(2026, 11, 26))[0] == date(2026, 12, 9)


def test_any_member_may_end_a_written_procedure_but_not_one_excluded_from_the_item():
    yes_all = {1: YES, 2: YES, 3: YES, 4: YES, 5: YES}
    # the advisory member (6) does not vote, but its objection ends the procedure (§ 90 VwVfG)
    assert circulation(M, {**yes_all, 6: OBJECT}, set(), deadline=DEADLINE, now=BEFORE).state == "ended_by_objection"
    # a member excluded for a conflict of interest takes no part, not even by objecting
    assert circulation(M, {**yes_all, 6: OBJECT}, {6}, deadline=DEADLINE, now=BEFORE).state == "carried"
