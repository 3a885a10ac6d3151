"""Where an organisation's money goes: only its managers change the account; a change is audited,
told to every manager, and nothing is paid to the new account until finance has confirmed it."""

import pytest
from sqlalchemy import select

from grants.models import AuditEvent, Membership, Message, Organisation, Payout
from grants.services import accounts, organisations, payouts
from grants.services.actor import Actor
from grants.services.errors import Forbidden
from tests.factories import PASSWORD, actor_for, granted_case

NEW_IBAN = "DE89370400440532013000"


def _member(db, world):
    with db.session() as s:
        user = accounts.create_user(s, Actor.system("test"), "kollege@a.example", "applicant", PASSWORD,
                                    org_name="Verein A e.V.")
        s.flush()
        s.scalar(select(Membership).where(Membership.user_id == user.id)).manager = False
        return user.id


def test_a_member_who_is_no_manager_cannot_redirect_the_money(db, world):
    colleague = actor_for(db, _member(db, world))
    with pytest.raises(Forbidden), db.session() as s:
        organisations.update_profile(s, colleague, world.org_ids["a"],
                                     {"iban": NEW_IBAN, "account_holder": "Kollege privat"})
    with pytest.raises(Forbidden), db.session() as s:
        organisations.set_signatories(s, colleague, world.org_ids["a"], [("Kollege", "Vorsitz")])
    with db.session() as s:
        org = s.get(Organisation, world.org_ids["a"])
        assert (org.iban, org.account_holder) == ("DE02120300000000202051", "Verein A e.V.")


def test_a_changed_account_is_told_and_waits_for_finance(db, world):
    _member(db, world)
    case_id = granted_case(db, world, "900.00")
    manager, finance = actor_for(db, world.users["applicant_a"]), actor_for(db, world.users["finance"])
    with db.session() as s:
        organisations.update_profile(s, manager, world.org_ids["a"],
                                     {"iban": NEW_IBAN.lower(), "account_holder": "Verein A e.V. Sonderkonto"})
    with db.session() as s:
        assert payouts.plan(s, finance) == []                         # nothing to the unconfirmed account
        [b] = payouts.blocked(s)
        assert b.bank_unconfirmed and b.iban == NEW_IBAN and b.case_id == case_id
        told = s.scalars(select(Message.recipient).where(Message.template == "bank_changed")).all()
        assert told == ["applicant_a@test.example"]                   # the managers, not every member
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "bank_details_changed"))
        assert event.data["from"] == "DE02 … 2051" and event.data["to"] == "DE89 … 3000"
    with pytest.raises(Forbidden), db.session() as s:
        organisations.confirm_bank(s, manager, world.org_ids["a"])    # not by the organisation itself
    with db.session() as s:
        organisations.confirm_bank(s, finance, world.org_ids["a"])
    with db.session() as s:
        [p] = payouts.plan(s, finance)
        assert (p.iban, p.account_holder) == (NEW_IBAN, "Verein A e.V. Sonderkonto")
        assert s.scalar(select(Payout.application_id)) == case_id
