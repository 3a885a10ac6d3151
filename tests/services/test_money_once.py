"""Every money action has one effect, however often and however many people fire it at once:
a double click, two tabs, two clerks (SQLite and PostgreSQL, threads released together)."""

import threading
from datetime import timedelta
from decimal import Decimal as D

from sqlalchemy import func, select

from grants import clock
from grants.models import (
    AgendaItem,
    AuditEvent,
    BankEntry,
    BankStatement,
    Decision,
    LedgerEntry,
    ManualBooking,
    Payout,
    PayoutRun,
)
from grants.services import bank_queue, ledger, manual_bookings, payouts
from grants.services.errors import ServiceError
from tests.factories import actor_for, build_world, granted_case

N = 6


def race(n, fn):
    """Run fn(i) in n threads released at once; each result is its value or the ServiceError."""
    barrier, results = threading.Barrier(n), [None] * n

    def one(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except ServiceError as e:
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return results


def count(db, model, *where):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def events(db, action):
    return count(db, AuditEvent, AuditEvent.action == action)


def test_planning_payouts_at_once_plans_each_grant_once(race_db):
    world = build_world(race_db)
    case_id = granted_case(race_db, world, "650.00")
    finance = actor_for(race_db, world.users["finance"])

    def plan(_):
        with race_db.session() as s:
            return len(payouts.plan(s, finance))

    assert sorted(race(8, plan)) == [0] * 7 + [1]
    with race_db.session() as s:
        assert s.scalars(select(Payout.amount).where(Payout.application_id == case_id)).all() == [D("650.00")]


def _planned(db, world, *amounts):
    for a in amounts:
        granted_case(db, world, a)
    with db.session() as s:
        payouts.plan(s, actor_for(db, world.users["finance"]))


def test_a_run_is_prepared_released_and_written_once(race_db, tmp_path):
    world = build_world(race_db)
    _planned(race_db, world, "650.00", "1200.00")
    f1, f2 = actor_for(race_db, world.users["finance"]), actor_for(race_db, world.users["finance2"])

    def prepare(_):
        with race_db.session() as s:
            return payouts.prepare_run(s, f1).id

    results = race(N, prepare)
    run_ids = [r for r in results if isinstance(r, int)]
    assert len(run_ids) == 1 and all("keine fälligen" in str(r.msgid) for r in results if not isinstance(r, int))
    run_id = run_ids[0]

    def release(_):
        with race_db.session() as s:
            return payouts.release_run(s, f2, run_id).state

    assert race(N, release).count("released") == 1
    assert events(race_db, "payout_run_released") == 1

    def write(i):
        with race_db.session() as s:
            return payouts.write_file(s, f2, tmp_path / f"pain-{i}.xml").count

    assert sorted(race(N, write)) == [0] * (N - 1) + [2]
    assert len(list(tmp_path.glob("pain-*.xml"))) == 1          # one file pays each payout
    assert count(race_db, Payout, Payout.state == "sent") == 2
    assert events(race_db, "payout_file_written") == 1


def test_a_run_is_cancelled_once_and_its_payouts_can_go_again(race_db):
    world = build_world(race_db)
    _planned(race_db, world, "650.00")
    f1 = actor_for(race_db, world.users["finance"])
    with race_db.session() as s:
        run_id = payouts.prepare_run(s, f1).id

    def cancel(_):
        with race_db.session() as s:
            return payouts.cancel_run(s, f1, run_id, "falscher Tag").state

    assert race(N, cancel).count("cancelled") == 1
    assert events(race_db, "payout_run_cancelled") == 1
    with race_db.session() as s:
        p = s.scalar(select(Payout))
        assert (p.state, p.run_id) == ("due", None)
        again = payouts.prepare_run(s, f1)                       # the payout goes into a new run
        assert again.id != run_id
    with race_db.session() as s:
        assert s.get(PayoutRun, run_id).state == "cancelled"


def _open_item(db, world, amount="250.00", credit=True):
    with db.session() as s:
        st = BankStatement(fund_id=world.fund_id, statement_ref="S1", message_id="M1", file_sha256="0" * 64,
                           filename="s.xml", account_iban="DE89370400440532013000", entry_count=1)
        s.add(st)
        s.flush()
        e = BankEntry(statement_id=st.id, entry_ref="E1", status="BOOK", credit=credit, reversal=False,
                      amount=D(amount), booking_date=clock.today(), counterparty_name="Frau Muster",
                      remittance="Spende", match_state="unmatched")
        s.add(e)
        s.flush()
        return e.id


def test_an_open_bank_item_is_assigned_once(race_db):
    world = build_world(race_db)
    entry_id = _open_item(race_db, world)
    f1, f2 = actor_for(race_db, world.users["finance"]), actor_for(race_db, world.users["finance2"])

    def assign(i):
        with race_db.session() as s:
            return bank_queue.assign(s, f1 if i % 2 else f2, entry_id, "donation").match_state

    results = race(N, assign)
    assert results.count("assigned") == 1
    assert all("schon zugeordnet" in r.msgid for r in results if r != "assigned")
    assert count(race_db, LedgerEntry, LedgerEntry.bank_entry_id == entry_id) == 1
    with race_db.session() as s:
        assert ledger.balances(s, world.fund_id).donations == D("10250.00")


def test_a_zero_entry_is_no_donation(race_db):
    world = build_world(race_db)
    entry_id = _open_item(race_db, world, "0.00")
    with race_db.session() as s:
        try:
            bank_queue.assign(s, actor_for(race_db, world.users["finance"]), entry_id, "donation")
        except ServiceError as e:
            assert "0,00 €" in e.msgid
        else:
            raise AssertionError("a 0.00 entry was booked as a donation")
    assert count(race_db, LedgerEntry, LedgerEntry.bank_entry_id == entry_id) == 0


def test_a_manual_donation_sent_twice_is_booked_once(race_db):
    world = build_world(race_db)
    finance = actor_for(race_db, world.users["finance"])

    def book(_):
        with race_db.session() as s:
            return manual_bookings.propose_donation(s, finance, world.fund_id, "k" * 32, donor="Kollekte St. Marien",
                                                    booked_on=clock.today(), amount=D("180.00")).id

    assert len(set(race(N, book))) == 1
    assert count(race_db, LedgerEntry, LedgerEntry.kind == "donation", LedgerEntry.donor == "Kollekte St. Marien") == 1


def test_a_large_manual_donation_waits_for_a_second_person_who_books_it_once(race_db):
    world = build_world(race_db)
    f1, f2 = actor_for(race_db, world.users["finance"]), actor_for(race_db, world.users["finance2"])
    with race_db.session() as s:
        booking = manual_bookings.propose_donation(s, f1, world.fund_id, "a" * 32, donor="Stiftung",
                                                   booked_on=clock.today(), amount=D("5000.00"))
        assert booking.state == "pending"
        booking_id = booking.id
        assert ledger.balances(s, world.fund_id).donations == D("10000.00")     # not yet in the fund
    with race_db.session() as s:
        try:
            manual_bookings.confirm(s, f1, booking_id)
        except ServiceError as e:
            assert "Vier-Augen" in e.msgid
        else:
            raise AssertionError("the person who entered it confirmed it")

    def confirm(_):
        with race_db.session() as s:
            return manual_bookings.confirm(s, f2, booking_id).state

    assert race(N, confirm).count("booked") == 1
    with race_db.session() as s:
        assert ledger.balances(s, world.fund_id).donations == D("15000.00")
        b = s.get(ManualBooking, booking_id)
        assert (b.proposed_by_id, b.decided_by_id) == (world.users["finance"], world.users["finance2"])


def test_an_absurd_manual_donation_is_refused(race_db):
    world = build_world(race_db)
    with race_db.session() as s:
        try:
            manual_bookings.propose_donation(s, actor_for(race_db, world.users["finance"]), world.fund_id, "b" * 32,
                                             donor="X", booked_on=clock.today(), amount=D("999999999999.99"))
        except ServiceError as e:
            assert "Kontoauszug" in e.msgid
        else:
            raise AssertionError("999,999,999,999.99 EUR booked by hand")
    assert count(race_db, ManualBooking) == 0


def test_a_large_reclassification_waits_and_is_booked_once(race_db):
    world = build_world(race_db)
    f1, f2 = actor_for(race_db, world.users["finance"]), actor_for(race_db, world.users["finance2"])
    with race_db.session() as s:
        donation_id = s.scalar(select(LedgerEntry.id).where(LedgerEntry.kind == "donation"))

    def propose(i):
        with race_db.session() as s:
            return manual_bookings.propose_reclassification(s, f1, f"r{i}".ljust(32, "x"), donation_id, "other",
                                                            reason="war keine Spende").state

    results = race(N, propose)
    assert results.count("pending") == 1                     # the others: one is waiting already
    with race_db.session() as s:
        booking_id = s.scalar(select(ManualBooking.id))
    with race_db.session() as s:
        manual_bookings.confirm(s, f2, booking_id)
    with race_db.session() as s:
        assert ledger.balances(s, world.fund_id).donations == D("0.00")
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "reversal")) == 1


def test_votes_counted_at_once_near_the_fund_limit_never_approve_more_than_there_is(race_db):
    """Two items of 6,000 each, 10,000 in the fund, counted at the same moment (two sittings):
    one is approved; the vote record and the booking agree."""
    from grants.models import Committee, CommitteeMember, User
    from grants.services import accounts
    from grants.services.actor import Actor
    from grants.services.committee import decisions, sessions, voting
    from tests.factories import PASSWORD
    from tests.flows.test_session_flow import _ready_case

    db = race_db
    world = build_world(db)
    system = Actor.system("test")
    with db.session() as s:
        c = s.scalar(select(Committee))
        chair = s.scalar(select(User).where(User.email == "chair@test.example"))
        s.add(CommitteeMember(committee_id=c.id, user_id=chair.id, function="chair"))
        for i in range(1, 3):
            u = accounts.create_user(s, system, f"m{i}@test.example", "committee", PASSWORD)
            s.add(CommitteeMember(committee_id=c.id, user_id=u.id))
        s.flush()
        member_ids = list(s.scalars(select(CommitteeMember.id)))
        committee_id = c.id
    chair_actor = actor_for(db, world.users["chair"])
    items, sittings = [], []
    for n in range(2):
        _ready_case(db, world, f"Projekt {n}", "6000.00")
        with db.session() as s:
            m = sessions.plan_session(s, chair_actor, committee_id, clock.now() + timedelta(hours=n))
            [item] = sessions.build_agenda(s, m.id)
            sessions.invite(s, m.id, "http://x")
            sessions.open_session(s, chair_actor, m.id)
            for mid in member_ids:
                sessions.set_attendance(s, chair_actor, m.id, mid, True)
            voting.set_motion(s, chair_actor, item.id, "approve")
            for mid in member_ids:
                voting.cast_vote(s, chair_actor, item.id, mid, "yes")
            items.append(item.id)
            sittings.append(m.id)

    def conclude(i):
        with db.session() as s:
            return voting.conclude_item(s, chair_actor, items[i]).outcome

    results = race(2, conclude)
    assert results.count("approve") == 1 and sum(isinstance(r, ServiceError) for r in results) == 1
    for sitting_id in sittings:
        with db.session() as s:
            sessions.close_session(s, chair_actor, sitting_id)
        with db.session() as s:
            decisions.record_decisions(s, sitting_id)
    with db.session() as s:
        approved = s.scalars(select(AgendaItem.id).where(AgendaItem.outcome == "approve")).all()
        kinds = dict(s.execute(select(Decision.agenda_item_id, Decision.kind)).tuples().all())
        assert [kinds[i] for i in approved] == ["approve"]                # what was voted is what was booked
        assert ledger.balances(s, world.fund_id).available == D("4000.00")
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "commitment")) == 1


def test_booked_on_in_the_future_is_refused(race_db):
    world = build_world(race_db)
    with race_db.session() as s:
        try:
            manual_bookings.propose_donation(s, actor_for(race_db, world.users["finance"]), world.fund_id, "c" * 32,
                                             donor="X", booked_on=clock.today() + timedelta(days=2),
                                             amount=D("10.00"))
        except ServiceError as e:
            assert "Zukunft" in e.msgid
        else:
            raise AssertionError("a donation received the day after tomorrow")


def test_the_same_statement_imported_twice_at_once_books_once(race_db, tmp_path):
    from grants.models import BankStatement
    from grants.services import statements
    from grants.services.actor import Actor
    from tests.camt_builder import N as Entry
    from tests.camt_builder import T, statement

    world = build_world(race_db)
    xml = statement("DE89370400440532013000", [Entry("25.00", True, [T("25.00", None, "Frau A", None, "Spende")]),
                                               Entry("40.00", True, [T("40.00", None, "Herr B", None, "Spende")])])
    paths = []
    for i in range(4):
        paths.append(tmp_path / f"upload-{i}.xml")
        paths[-1].write_bytes(xml)

    def import_(i):
        with race_db.session() as s:
            return statements.import_file(s, paths[i], Actor.system("test")).statements

    assert sorted(race(4, import_)) == [0, 0, 0, 1]
    assert count(race_db, BankStatement) == 1
    with race_db.session() as s:
        assert ledger.balances(s, world.fund_id).donations == D("10065.00")
