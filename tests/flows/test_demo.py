"""`grants demo` lives the program's past through the real services and flows: what a newcomer sees
afterwards must be what the system makes, read back as a user would (letters and minutes as PDF
text, the bank's bookings, the fund's balance, Prefect's run history)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from grants import clock
from grants.db import Database
from grants.documents.render import euro
from grants.models import (
    AgendaItem,
    Application,
    Attendance,
    BankEntry,
    CommitteeMember,
    ConflictOfInterest,
    Decision,
    FlowJob,
    LedgerEntry,
    Letter,
    Payout,
    Sitting,
    User,
)

DECIDED = ("approved", "partly_approved", "rejected", "letter_sent", "paid", "report_due", "report_submitted",
           "closed", "reclaim")
PAID = ("paid", "report_due", "report_submitted", "closed", "reclaim")
_made: dict[str, tuple[Path, str]] = {}


def run_grants(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GRANTS_HOME": str(home), "GRANTS_SECRET_KEY": "test-secret"}
    env.pop("GRANTS_DATABASE_URL", None)
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([sys.executable, "-m", "grants", *args], capture_output=True, text=True, env=env, timeout=300)


def demo_home_once(tmp_path_factory, template_db) -> tuple[Path, str]:
    """One `grants demo` for the whole test session (it takes half a minute): its home and output."""
    if "home" not in _made:
        home = tmp_path_factory.mktemp("demo")
        shutil.copy(template_db, home / "grants.db")
        r = run_grants(home, "demo")
        assert r.returncode == 0, r.stderr
        _made["home"] = (home, r.stdout)
    return _made["home"]


def copy_home(source: Path, target: Path) -> None:
    """A copy of a demo home to change: the database through SQLite's backup (a file copy can meet
    the write-ahead log's side files vanishing as another connection closes), the files as they are."""
    import sqlite3

    shutil.copytree(source, target, ignore=shutil.ignore_patterns("prefect", "grants.db*"))
    with sqlite3.connect(source / "grants.db") as src, sqlite3.connect(target / "grants.db") as dst:
        src.backup(dst)


@pytest.fixture(scope="module")
def home(tmp_path_factory, template_db) -> Path:
    return demo_home_once(tmp_path_factory, template_db)[0]


@pytest.fixture(scope="module")
def db(home):
    database = Database(f"sqlite:///{home / 'grants.db'}")
    yield database
    database.dispose()


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


def test_every_decided_case_has_its_bescheid(home, db):
    with db.read() as s:
        decided = s.scalars(select(Application).where(Application.state.in_(DECIDED))).all()
        assert {c.state for c in decided} == set(DECIDED)
        for case in decided:
            decision = s.scalars(select(Decision).where(Decision.application_id == case.id)
                                 .order_by(Decision.id.desc())).first()
            letter = s.scalar(select(Letter).where(Letter.application_id == case.id,
                                                   Letter.kind.in_(("approval", "partial_approval", "rejection"))))
            assert letter is not None, case.file_number
            text = pdf_text(home / letter.pdf_path)
            assert case.file_number in text and "Verwaltungsgericht Osnabrück" in text
            if decision.kind == "reject":
                assert letter.kind == "rejection"
            else:
                assert euro(decision.amount).removesuffix(" €") in text and decision.amount == case.granted
            assert (home / letter.docx_path).stat().st_size > 0
            # the letter went out only where the case says so; the others wait for a staff review
            assert (letter.state == "held") == (case.state in ("approved", "partly_approved", "rejected"))
            # dated on the day of the sitting that decided, months ago for the paid ones
            sitting = s.get(Sitting, s.get(AgendaItem, decision.agenda_item_id).session_id)
            assert clock.local_date(letter.created_at) == clock.local_date(sitting.starts_at)
            assert clock.local_date(decision.decided_at) == clock.local_date(sitting.starts_at)


def test_held_sittings_have_signed_minutes_with_attendance_quorum_and_votes(home, db):
    with db.read() as s:
        held = s.scalars(select(Sitting).where(Sitting.kind == "meeting", Sitting.state == "closed")
                         .order_by(Sitting.starts_at)).all()
        assert len(held) == 2
        ages = [(clock.today() - clock.local_date(m.starts_at)).days for m in held]
        assert 140 <= ages[0] <= 170 and 7 <= ages[1] <= 14
        for m in held:
            minutes = s.scalars(select(Letter).where(Letter.session_id == m.id, Letter.kind == "minutes")
                                .order_by(Letter.version.desc())).first()
            text = pdf_text(home / minutes.pdf_path)
            present = s.scalars(select(User.name).join(CommitteeMember, CommitteeMember.user_id == User.id)
                                .join(Attendance, Attendance.member_id == CommitteeMember.id)
                                .where(Attendance.session_id == m.id, Attendance.present.is_(True))).all()
            assert len(present) >= 4
            for name in present:
                assert name in text
            assert "Beschlussfähigkeit: gegeben" in text
            assert "Abstimmung: 4 Ja, 0 Nein" in text and "angenommen" in text
            assert "befangen" in text        # the recusal of that sitting
            assert "Vorsitz: Dr. Meral Yıldız" in text and "Schriftführung: Anna Kowalski" in text
            assert "elektronisch unterschrieben" in text and "Noch nicht unterschrieben" not in text
            assert s.scalar(select(func.count()).select_from(ConflictOfInterest).join(AgendaItem)
                            .where(AgendaItem.session_id == m.id)) == 1
        # the second sitting deferred a case by vote; it is on the next sitting's agenda now
        deferred = s.scalar(select(AgendaItem).where(AgendaItem.session_id == held[1].id, AgendaItem.outcome == "defer"))
        assert s.get(Application, deferred.application_id).state == "on_agenda"


def test_the_next_sitting_has_its_agenda_and_is_not_held(db):
    with db.read() as s:
        upcoming = s.scalar(select(Sitting).where(Sitting.kind == "meeting", Sitting.state.in_(("planned", "invited"))))
        assert upcoming.state == "invited" and upcoming.starts_at > clock.now() and upcoming.cutoff_at < clock.now()
        states = s.scalars(select(Application.state).join(AgendaItem).where(AgendaItem.session_id == upcoming.id)).all()
        assert states and set(states) == {"on_agenda"}
        assert s.scalar(select(Attendance.id).where(Attendance.session_id == upcoming.id)) is None
        # the case deferred in writing waits: the written procedure ended by an objection
        written = s.scalar(select(Sitting).where(Sitting.kind == "circulation"))
        item = s.scalar(select(AgendaItem).where(AgendaItem.session_id == written.id))
        assert item.outcome == "defer" and s.get(Application, item.application_id).state == "deferred"


def test_every_paid_case_was_paid_through_the_bank(db):
    with db.read() as s:
        for case in s.scalars(select(Application).where(Application.state.in_(PAID))):
            payout = s.scalar(select(Payout).where(Payout.application_id == case.id))
            assert payout.state == "booked" and payout.amount == case.granted, case.file_number
            entry = s.scalar(select(BankEntry).where(BankEntry.payout_id == payout.id))
            assert entry.end_to_end_id == payout.end_to_end_id and entry.booking_date == payout.booked_on
            assert s.scalar(select(LedgerEntry.id).where(LedgerEntry.bank_entry_id == entry.id,
                                                         LedgerEntry.kind == "payout")) is not None
        # every donation came in on a statement; the letter_sent ones wait in a released run
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.kind == "donation", LedgerEntry.bank_entry_id.is_(None))) == 0
        released = s.scalars(select(Application.state).join(Payout).where(Payout.state == "released")).all()
        assert released and set(released) == {"letter_sent"}


def test_fund_balance_is_what_the_bank_and_the_sittings_say(home, db):
    b = {k: Decimal(v) for k, v in json.loads(run_grants(home, "fund", "balance", "--json").stdout).items()}
    assert b["available"] == b["donations"] - b["committed"] - b["paid"] + b["refunded"]
    with db.read() as s:
        credits = s.scalar(select(func.sum(BankEntry.amount)).where(BankEntry.match_kind == "donation"))
        booked = s.scalar(select(func.sum(Payout.amount)).where(Payout.state == "booked"))
    assert b["donations"] == credits == Decimal("42334.50")
    assert b["paid"] == booked


def test_the_flows_ran_and_prefect_has_their_history(home, db):
    with db.read() as s:
        jobs = dict(s.execute(select(FlowJob.state, func.count()).group_by(FlowJob.state)).all())
        queued = set(s.scalars(select(FlowJob.flow).where(FlowJob.state == "queued")))
        flows = set(s.scalars(select(FlowJob.flow).where(FlowJob.state == "done")))
    assert "failed" not in jobs
    assert queued == {"screening", "send_receipt"}           # the case submitted a moment ago
    assert {"screening", "prepare_session", "decide_session", "decision_letters", "reconcile_statement",
            "reminders", "reclaim_letter", "deliver_message"} <= flows
    with sqlite3.connect(home / "prefect" / "prefect.db") as prefect:
        runs = prefect.execute("select count(*) from flow_run where state_type = 'COMPLETED'").fetchone()[0]
    assert runs == jobs["done"]


def test_a_demo_that_stopped_half_way_is_not_taken_for_done(tmp_path, template_db):
    from grants.models import Fund, Program

    shutil.copy(template_db, tmp_path / "grants.db")
    database = Database(f"sqlite:///{tmp_path / 'grants.db'}")
    with database.session() as s:       # what a run killed after its first scene leaves behind
        fund = Fund(name="Spendenfonds", iban="DE89370400440532013000", account_holder="Stadt Osnabrück")
        s.add(fund)
        s.flush()
        s.add(Program(code="DQD", name="Dein Quartier und du", form_name="dein_quartier_und_du", fund_id=fund.id))
    database.dispose()
    r = run_grants(tmp_path, "demo")
    assert r.returncode == 1 and "half-way" in r.stderr and "empty GRANTS_HOME" in r.stderr
    assert "already" not in r.stdout and "Demo users" not in r.stdout
