"""Building blocks for tests: a small but complete world."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from grants.db import Database
from grants.models import Committee, Fund, LedgerEntry, Organisation, OrgKind, Program
from grants.services import accounts
from grants.services.actor import Actor

PASSWORD = "correct horse battery"


@dataclass
class World:
    program_id: int
    fund_id: int
    org_ids: dict[str, int]
    users: dict[str, int]          # key -> user id

    def email(self, key: str) -> str:
        return f"{key}@test.example"


def build_world(db: Database) -> World:
    from datetime import date

    system = Actor.system("test")
    with db.session() as s:
        fund = Fund(name="Testfonds", iban="DE89370400440532013000", account_holder="Stadt Osnabrück")
        committee = Committee(name="Koordinierungsstab Integration")
        s.add_all([fund, committee])
        s.flush()
        program = Program(code="DQD", name="Dein Quartier und du", form_name="dein_quartier_und_du",
                          fund_id=fund.id, committee_id=committee.id)
        a = Organisation(name="Verein A e.V.", kind=OrgKind.ASSOCIATION, iban="DE02120300000000202051",
                         account_holder="Verein A e.V.", street="Lotter Straße 5", postcode="49078", city="Osnabrück")
        b = Organisation(name="Gemeinde B", kind=OrgKind.PARISH, iban="DE75512108001245126199",
                         account_holder="Gemeinde B", street="Markt 1", postcode="49074", city="Osnabrück")
        s.add_all([program, a, b])
        s.flush()
        s.add(LedgerEntry(fund_id=fund.id, kind="donation", amount=Decimal("10000.00"),
                          booked_on=date(2026, 1, 1), donor="Test"))
        users = {}
        for key, role, org in [("applicant_a", "applicant", a.name), ("applicant_b", "applicant", b.name),
                               ("staff", "staff", None), ("committee", "committee", None),
                               ("chair", "chair", None), ("finance", "finance", None),
                               ("finance2", "finance", None), ("admin", "admin", None)]:
            u = accounts.create_user(s, system, f"{key}@test.example", role, PASSWORD, org_name=org)
            users[key] = u.id
        return World(program.id, fund.id, {"a": a.id, "b": b.id}, users)


def actor_for(db: Database, user_id: int) -> Actor:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from grants.models import User

    with db.session() as s:
        user = s.scalar(select(User).options(selectinload(User.memberships)).where(User.id == user_id))
        return Actor.of(user)


def granted_case(db: Database, world: World, amount: str = "1000.00", org: str = "a") -> int:
    """A case approved for `amount`, with its commitment booked and its letter sent."""
    from datetime import date

    from grants.models import LedgerEntry, Program
    from grants.services import applications, cases

    applicant = actor_for(db, world.users[f"applicant_{org}"])
    system = Actor.system("test")
    with db.session() as s:
        program = s.get(Program, world.program_id)
        case = applications.create_draft(s, applicant, program, world.org_ids[org], title="Sprachcafé",
                                          requested=Decimal(amount))
        applications.submit(s, applicant, case)
        for action in ("start_screening", "mark_ready", "put_on_agenda", "approve", "send_letter"):
            cases.transition(s, case, action, system)
        case.granted = Decimal(amount)
        s.add(LedgerEntry(fund_id=world.fund_id, kind="commitment", amount=Decimal(amount),
                          booked_on=date(2026, 11, 20), application_id=case.id))
        return case.id
