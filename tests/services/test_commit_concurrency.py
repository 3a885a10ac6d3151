"""Many approvals race for a fund that covers only some of them: the fund is never overdrawn
(SQLite and PostgreSQL)."""

import threading
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from grants.models import Application, LedgerEntry, Program
from grants.services import applications, ledger
from grants.services.actor import Actor
from grants.services.errors import Conflict
from tests.factories import actor_for, build_world


def test_racing_approvals_never_overdraw_the_fund(race_db):
    db = race_db
    world = build_world(db)                      # 10,000.00 donated
    applicant = actor_for(db, world.users["applicant_a"])
    ids = []
    with db.session() as s:
        program = s.get(Program, world.program_id)
        for i in range(24):
            case = applications.create_draft(s, applicant, program, world.org_ids["a"], title=f"P{i}",
                                              requested=D("1500.00"))
            ids.append(case.id)
    results, barrier = [], threading.Barrier(8)

    def approve(chunk):
        barrier.wait()
        for case_id in chunk:
            try:
                with db.session() as s:
                    ledger.commit_grant(s, Actor.system("test"), case_id, D("1500.00"))
                results.append("ok")
            except Conflict:
                results.append("refused")

    threads = [threading.Thread(target=approve, args=(ids[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results.count("ok") == 6 and results.count("refused") == 18      # 6 x 1,500 = 9,000 <= 10,000
    with db.session() as s:
        b = ledger.balances(s, world.fund_id)
        assert b.available == D("1000.00") and b.available >= 0
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "commitment")) == 6
        assert s.scalar(select(func.count()).select_from(Application).where(Application.granted.is_not(None))) == 6
        # committing the same grant again changes nothing
        granted = s.scalar(select(Application.id).where(Application.granted.is_not(None)).limit(1))
    with db.session() as s:
        ledger.commit_grant(s, Actor.system("test"), granted, D("1500.00"))
    with db.session() as s:
        assert ledger.balances(s, world.fund_id).available == D("1000.00")


def test_refusal_says_how_much_is_there(db, world):
    from tests.factories import granted_case

    with db.session() as s:
        case = applications.create_draft(s, actor_for(db, world.users["applicant_a"]), s.get(Program, world.program_id),
                                         world.org_ids["a"], title="Groß", requested=D("5000.00"))
        case_id = case.id
    granted_case(db, world, "6000.00")
    with db.session() as s:
        with pytest.raises(Conflict, match="verfügbar sind 4000.00 €"):
            ledger.commit_grant(s, Actor.system("test"), case_id, D("5000.00"))
