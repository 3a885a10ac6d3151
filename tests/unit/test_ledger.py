from decimal import Decimal as D

from grants.domain.ledger import can_commit, compute_balances


def test_available_is_donations_minus_open_commitments_minus_paid_plus_refunds():
    b = compute_balances({"donation": D("10000.00"), "commitment": D("3000.00"), "payout": D("1000.00"),
                          "refund": D("200.00")})
    assert b.committed == D("2000.00")  # 3000 promised, 1000 of it paid
    assert b.paid == D("1000.00")
    assert b.available == D("10000.00") - D("2000.00") - D("1000.00") + D("200.00")


def test_a_returned_payout_is_still_owed_and_available_does_not_change():
    before = compute_balances({"donation": D("5000"), "commitment": D("1000"), "payout": D("1000")})
    after = compute_balances({"donation": D("5000"), "commitment": D("1000"), "payout": D("1000"),
                              "payout_return": D("1000")})
    assert after.paid == D("0") and after.committed == D("1000")
    assert after.available == before.available


def test_released_commitment_frees_money():
    b = compute_balances({"donation": D("5000"), "commitment": D("1000"), "commitment_release": D("1000")})
    assert b.available == D("5000")


def test_never_commit_more_than_available():
    b = compute_balances({"donation": D("1000.00"), "commitment": D("600.00")})
    assert can_commit(b, D("400.00"))
    assert not can_commit(b, D("400.01"))
    assert not can_commit(b, D("0"))
